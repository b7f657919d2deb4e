// The People Operations dashboard: filters in the URL query, the token in this tab only.
//
// The token arrives in the URL fragment (#token=..., which browsers never send to a server),
// moves to sessionStorage and leaves the address bar at once; it goes out only as
// "Authorization: Bearer" to this service's /programme API. A view is shared by its URL:
// ?team=...&from=YYYY-MM&to=YYYY-MM, never the token.

import { COLOURS, chart, plain } from "./charts.js";

const TOKEN_KEY = "kamu.insights.token";
const $ = (id) => document.getElementById(id);
const state = { team: "", from: "", to: "" };
let teamsLoaded = false;
let current = null; // the last overview shown, for redrawing at another width
let inFlight = null;
let drawnWidth = 0;

// ---- months (UTC, as the service counts them) --------------------------------------------

function thisMonth() {
  const now = new Date();
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
}

function addMonths(label, count) {
  const [year, month] = label.split("-").map(Number);
  const index = year * 12 + month - 1 + count;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const monthName = new Intl.DateTimeFormat("en-GB", { month: "short", timeZone: "UTC" });

function tick(label) {
  const [year, month] = label.split("-").map(Number);
  const name = monthName.format(new Date(Date.UTC(year, month - 1, 1)));
  return month === 1 ? `${name} ${String(year).slice(2)}` : name;
}

// ---- numbers ------------------------------------------------------------------------------

const has = (v) => v !== null && v !== undefined && Number.isFinite(v);
const pct = (v) => (has(v) ? `${Math.round(v * 100)}%` : "—");
const one = (v) => (has(v) ? v.toFixed(1) : "—");
const days = (v) => (has(v) ? `${v.toFixed(1)} d` : "—");
const count = (v) => (has(v) ? String(v) : "0");

// ---- the token ----------------------------------------------------------------------------

function takeToken() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const token = fragment.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    fragment.delete("token");
    const rest = fragment.toString();
    const clean = window.location.pathname + window.location.search + (rest ? `#${rest}` : "");
    window.history.replaceState(window.history.state, "", clean);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function signIn(reason) {
  setState("signin");
  $("content").hidden = true;
  $("filters").hidden = true;
  $("problem").hidden = true;
  $("signin").hidden = false;
  $("signin-reason").textContent = reason;
  const here = window.location.origin + window.location.pathname + window.location.search;
  $("signin-url").textContent = `${here}#token=<the token>`;
  $("status").textContent = reason;
}

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function api(path, params, signal) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();
  const response = await fetch(`programme/${path}${query ? `?${query}` : ""}`, {
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
    cache: "no-store",
    referrerPolicy: "no-referrer",
    signal,
  });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail ?? detail;
    } catch {
      // not a problem document: keep the status text
    }
    throw new ApiError(response.status, detail);
  }
  return response.json();
}

// ---- the filters and the URL --------------------------------------------------------------

function readQuery() {
  const query = new URLSearchParams(window.location.search);
  state.team = query.get("team") ?? "";
  state.from = MONTH.test(query.get("from") ?? "") ? query.get("from") : "";
  state.to = MONTH.test(query.get("to") ?? "") ? query.get("to") : "";
}

function writeQuery() {
  const query = new URLSearchParams();
  if (state.team) query.set("team", state.team);
  if (state.from) query.set("from", state.from);
  if (state.to) query.set("to", state.to);
  const search = query.toString();
  const url = window.location.pathname + (search ? `?${search}` : "");
  if (url !== window.location.pathname + window.location.search) {
    window.history.pushState(null, "", url);
  }
}

function showFilters() {
  $("team").value = state.team;
  $("from").value = state.from;
  $("to").value = state.to;
  const span = state.from && state.to ? monthsBetween(state.from, state.to) : 0;
  const last = state.to === thisMonth();
  for (const button of document.querySelectorAll(".presets button")) {
    button.setAttribute("aria-pressed", String(last && span === Number(button.dataset.months)));
  }
}

function monthsBetween(from, to) {
  const [fy, fm] = from.split("-").map(Number);
  const [ty, tm] = to.split("-").map(Number);
  return (ty - fy) * 12 + tm - fm + 1;
}

function apply() {
  writeQuery();
  load();
}

function wireFilters() {
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("team").addEventListener("change", () => {
    state.team = $("team").value;
    apply();
  });
  for (const id of ["from", "to"]) {
    $(id).addEventListener("change", () => {
      const value = $(id).value;
      if (!MONTH.test(value)) return;
      state[id] = value;
      if (state.from && state.to && state.from > state.to) {
        // keep the period whole: move the other end along
        if (id === "from") state.to = state.from;
        else state.from = state.to;
      }
      apply();
    });
  }
  for (const button of document.querySelectorAll(".presets button")) {
    button.addEventListener("click", () => {
      state.to = thisMonth();
      state.from = addMonths(state.to, 1 - Number(button.dataset.months));
      apply();
    });
  }
  window.addEventListener("popstate", () => {
    readQuery();
    load();
  });
  let timer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (current && Math.abs(document.documentElement.clientWidth - drawnWidth) > 8) {
        drawCharts(current);
      }
    }, 150);
  });
}

// ---- loading ------------------------------------------------------------------------------

function setState(name) {
  document.body.dataset.state = name;
}

async function loadTeams(signal) {
  const teams = await api("teams", {}, signal);
  const select = $("team");
  select.replaceChildren(new Option("Whole organisation", ""));
  for (const t of teams) select.append(new Option(t.team, t.team));
  teamsLoaded = true;
}

async function load() {
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    signIn("This page shows figures only to People Operations, and no token was given.");
    return;
  }
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  setState("loading");
  $("status").textContent = "Loading the figures…";
  try {
    if (!teamsLoaded) await loadTeams(controller.signal);
    if (state.team && ![...$("team").options].some((o) => o.value === state.team)) {
      $("team").append(new Option(state.team, state.team)); // shared link: let the API judge
    }
    const overview = await api(
      "overview",
      { team: state.team, from: state.from, to: state.to },
      controller.signal,
    );
    if (controller.signal.aborted) return;
    const period = overview.coverage.period;
    state.from = period.from;
    state.to = period.to;
    showFilters();
    $("signin").hidden = true;
    $("problem").hidden = true;
    $("filters").hidden = false;
    $("content").hidden = false;
    render(overview);
    setState("ready");
  } catch (error) {
    if (error.name === "AbortError") return;
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      if (error.status === 401) sessionStorage.removeItem(TOKEN_KEY);
      teamsLoaded = false;
      signIn(
        error.status === 401
          ? `The token was not accepted (${error.message}) It may have expired.`
          : "The token is valid but not for People Operations: it needs the people-ops role.",
      );
      return;
    }
    setState("error");
    showFilters();
    $("filters").hidden = !teamsLoaded;
    $("problem").hidden = false;
    $("problem").textContent =
      error instanceof ApiError
        ? `The figures could not be shown: ${error.message}`
        : "The service could not be reached. Check that it runs, then reload the page.";
    $("status").textContent = "No figures shown.";
  } finally {
    if (inFlight === controller) inFlight = null;
  }
}

// ---- what is shown ------------------------------------------------------------------------

function withheldText(k) {
  return `Withheld: it, or a group beside it, would describe fewer than ${k} people.`;
}

function render(ov) {
  current = ov;
  const k = ov.coverage.min_group;
  const who = state.team || "Whole organisation";
  $("status").textContent = `${who}, ${state.from} to ${state.to}.`;
  $("withheld-note").textContent =
    `To keep individuals out of sight, anything that would describe fewer than ${k} people ` +
    "is withheld: it shows as “withheld”, as a gap in a line or as a hatched band, never as " +
    "zero. When one team (or category, or channel) is withheld in a month, every other one " +
    "is withheld with it that month, so that none can be worked out by subtracting the " +
    "others from the whole organisation.";
  renderTiles(ov, k);
  drawCharts(ov);
  renderBreakdown(ov, k);
}

function tile(key, label, cell, value, detail, k) {
  const box = document.createElement("article");
  box.className = "tile";
  box.dataset.tile = key;
  const title = document.createElement("h3");
  title.textContent = label;
  const big = document.createElement("p");
  big.className = "value";
  const small = document.createElement("p");
  small.className = "detail";
  if (!cell) {
    big.textContent = "—";
    small.textContent = "No figure for this view.";
  } else if (!cell.withheld && !cell.people) {
    big.textContent = "—";
    small.textContent = "Nobody to count in this view.";
  } else if (cell.withheld) {
    big.textContent = "withheld";
    big.classList.add("withheld");
    small.textContent = withheldText(k);
  } else {
    big.textContent = value(cell) ?? "—";
    small.textContent = detail(cell);
  }
  box.append(title, big, small);
  return box;
}

function renderTiles(ov, k) {
  const now = state.to === thisMonth();
  const asOf = now ? "now" : `at the end of ${state.to}`;
  const over = `from ${state.from} to ${state.to}`;
  const c = ov.coverage.total;
  const o = ov.overdue.now;
  const w = ov.waiting.now;
  const l = ov["kamu-load"].total;
  const f = ov.feedback.total;
  $("tiles").replaceChildren(
    tile(
      "coverage",
      "People with an active Kamu",
      c,
      (x) => pct(x.share),
      (x) => `${count(x.covered)} of ${count(x.headcount)} people, ${asOf}`,
      k,
    ),
    tile(
      "overdue",
      "Pairings overdue for a meeting",
      o,
      (x) => pct(x.overdue_share),
      (x) => `${count(x.overdue)} of ${count(x.pairings)} active pairings, now`,
      k,
    ),
    tile(
      "waiting",
      "Requests waiting for an answer",
      w,
      (x) => count(x.requests),
      (x) => (has(x.median_days) ? `median wait ${x.median_days.toFixed(1)} days, now` : "now"),
      k,
    ),
    tile(
      "utilisation",
      "Kamu utilisation",
      l,
      (x) => pct(x.utilisation),
      (x) =>
        `${count(x.pairings)} pairings for ${count(x.capacity)} places, ${asOf}; ` +
        `${pct(x.hours_share)} of allocated hours met in ${state.to}`,
      k,
    ),
    tile(
      "safety",
      "Psychological safety",
      f,
      (x) => (has(x.psychological_safety) ? `${one(x.psychological_safety)} / 5` : "—"),
      (x) => `average of ${count(x.ratings)} ratings ${over}`,
      k,
    ),
    tile(
      "usefulness",
      "Usefulness of meetings",
      f,
      (x) => (has(x.usefulness) ? `${one(x.usefulness)} / 5` : "—"),
      (x) => `average of ${count(x.ratings)} ratings ${over}`,
      k,
    ),
  );
}

function monthly(ov, figure, key) {
  const months = ov[figure].months;
  return {
    values: months.map((m) => (m.withheld ? null : (m[key] ?? null))),
    withheld: months.map((m) => m.withheld),
  };
}

function series(name, colour, data, extra = {}) {
  return { name, colour, type: "line", axis: "left", ...data, ...extra };
}

function summary(title, labels, list) {
  const parts = list.map((s) => {
    const shown = s.values.filter(has).length;
    const held = (s.withheld ?? []).filter(Boolean).length;
    return `${s.name}: ${shown} of ${labels.length} shown${held ? `, ${held} withheld` : ""}`;
  });
  return `${title}. ${labels[0]} to ${labels[labels.length - 1]}. ${parts.join("; ")}. The table below the chart has the numbers.`;
}

function trendSpecs(ov, k) {
  const labels = ov.coverage.months.map((m) => m.month);
  const percent = { min: 0, max: 1, format: (v) => `${Math.round(v * 100)}%` };
  const note = `withheld: fewer than ${k} people`;
  const specs = [
    {
      id: "chart-coverage",
      title: "People with an active Kamu",
      subtitle: "Share of everyone in the organisation (or team), at each month's end",
      left: percent,
      series: [series("Coverage", COLOURS[0], monthly(ov, "coverage", "share"), { format: pct })],
    },
    {
      id: "chart-feedback",
      title: "Meeting feedback (1 to 5)",
      subtitle: "Average ratings of the meetings held in each month",
      left: { min: 1, max: 5, ticks: 4, format: plain },
      series: [
        series("Psychological safety", COLOURS[0], monthly(ov, "feedback", "psychological_safety"), {
          format: one,
        }),
        series("Usefulness", COLOURS[1], monthly(ov, "feedback", "usefulness"), {
          format: one,
          dashed: true,
        }),
      ],
    },
    {
      id: "chart-cadence",
      title: "Pairings meeting within their cadence",
      subtitle: "Share of pairings active for at least one cadence, at each month's end",
      left: percent,
      series: [series("Adherence", COLOURS[2], monthly(ov, "cadence", "adherence"), { format: pct })],
    },
    {
      id: "chart-goals",
      title: "Goals set, reviewed and completed",
      subtitle: "Goals per month; the line is the share of reviews done on time",
      left: { format: plain },
      right: percent,
      series: [
        series("Set", COLOURS[0], monthly(ov, "goals", "set"), { type: "bar", format: count }),
        series("Reviewed", COLOURS[2], monthly(ov, "goals", "reviewed"), {
          type: "bar",
          format: count,
        }),
        series("Completed", COLOURS[3], monthly(ov, "goals", "completed"), {
          type: "bar",
          format: count,
        }),
        series("Reviews on time", COLOURS[1], monthly(ov, "goals", "on_time_share"), {
          axis: "right",
          format: pct,
        }),
      ],
    },
    {
      id: "chart-load",
      title: "Kamu load",
      subtitle: "Pairings against the Kamus' capacity, and meeting hours against hours allocated",
      left: percent,
      series: [
        series("Utilisation", COLOURS[3], monthly(ov, "kamu-load", "utilisation"), {
          format: pct,
        }),
        series("Hours met", COLOURS[4], monthly(ov, "kamu-load", "hours_share"), {
          format: pct,
          dashed: true,
        }),
      ],
    },
    {
      id: "chart-days",
      title: "Days to pair and to the first meeting",
      subtitle: "Medians for the colleagues paired in each month",
      left: { format: (v) => `${plain(v)} d` },
      series: [
        series("Request to pairing", COLOURS[0], monthly(ov, "time-to-pair", "median_days"), {
          format: days,
        }),
        series(
          "Pairing to first meeting",
          COLOURS[1],
          monthly(ov, "first-meeting", "median_days"),
          { format: days, dashed: true },
        ),
      ],
    },
  ];
  for (const spec of specs) {
    spec.labels = labels;
    spec.tick = tick;
    spec.withheldNote = note;
    spec.summary = summary(spec.title, labels, spec.series);
  }
  return specs;
}

function grouped(breakdown, key) {
  return {
    values: breakdown.map((b) => (b.withheld ? null : (b[key] ?? null))),
    withheld: breakdown.map((b) => b.withheld),
  };
}

function splitSpecs(ov, k) {
  const note = `withheld: fewer than ${k} people`;
  const specs = [];
  const categories = ov["goals-by-category"];
  if (categories && categories.breakdown.length) {
    const b = categories.breakdown;
    specs.push({
      id: "chart-categories",
      title: "Goals by category",
      subtitle: `Over ${state.from} to ${state.to}`,
      labelName: "Category",
      labels: b.map((x) => x.group),
      left: { format: plain },
      series: [
        series("Set", COLOURS[0], grouped(b, "set"), { type: "bar", format: count }),
        series("Reviewed", COLOURS[2], grouped(b, "reviewed"), { type: "bar", format: count }),
        series("Completed", COLOURS[3], grouped(b, "completed"), { type: "bar", format: count }),
      ],
    });
  }
  const notes = ov.notifications; // absent for one team: not split by team
  if (notes && notes.breakdown.length) {
    const b = notes.breakdown;
    specs.push({
      id: "chart-channels",
      title: "Notifications by channel",
      subtitle: `Sent, failed and turned off by the person, ${state.from} to ${state.to}`,
      labelName: "Channel",
      labels: b.map((x) => x.group),
      left: { format: plain },
      stacked: true,
      series: [
        series("Sent", COLOURS[2], grouped(b, "sent"), { type: "bar", format: count }),
        series("Failed", COLOURS[1], grouped(b, "failed"), { type: "bar", format: count }),
        series("Turned off", COLOURS[3], grouped(b, "suppressed"), { type: "bar", format: count }),
      ],
    });
  }
  for (const spec of specs) {
    spec.withheldNote = note;
    spec.summary = summary(spec.title, spec.labels, spec.series);
  }
  return specs;
}

function place(grid, specs) {
  grid.replaceChildren();
  for (const spec of specs) {
    const slot = document.createElement("div");
    slot.className = "chart-slot";
    grid.append(slot);
    const width = Math.max(240, slot.clientWidth - 2 * 14);
    slot.append(chart(spec, width));
  }
}

function drawCharts(ov) {
  const k = ov.coverage.min_group;
  drawnWidth = document.documentElement.clientWidth;
  place($("trends"), trendSpecs(ov, k));
  const splits = splitSpecs(ov, k);
  place($("splits"), splits);
  if (!ov["goals-by-category"] || !ov.notifications) {
    const p = document.createElement("p");
    p.className = "note";
    p.textContent =
      "Goals by category and notifications by channel are shown for the whole organisation " +
      "only: split within one team, their groups would be too small to keep apart.";
    $("splits").append(p);
  }
}

const COLUMNS = [
  ["coverage", "People with a Kamu", (c) => `${pct(c.share)} (${count(c.covered)} of ${count(c.headcount)})`],
  ["cadence", "Met within cadence", (c) => pct(c.adherence)],
  ["overdue", "Overdue now", (c) => `${count(c.overdue)} of ${count(c.pairings)}`],
  ["waiting", "Waiting now", (c) => count(c.requests)],
  ["time-to-pair", "Days to pair (median)", (c) => one(c.median_days)],
  ["goals", "Goals set", (c) => count(c.set)],
  ["goals", "Reviews on time", (c) => pct(c.on_time_share)],
  ["feedback", "Psychological safety", (c) => one(c.psychological_safety)],
  ["feedback", "Usefulness", (c) => one(c.usefulness)],
  ["kamu-load", "Kamu utilisation", (c) => pct(c.utilisation)],
];

function renderBreakdown(ov, k) {
  const byTeam = (figure) => (ov[figure].by === "team" ? ov[figure].breakdown : []);
  const groups = new Set();
  for (const [figure] of COLUMNS) for (const b of byTeam(figure)) groups.add(b.group);
  $("teams-note").textContent =
    `Each team over ${state.from} to ${state.to} (figures measured at a month's end: ` +
    `at the end of ${state.to}). Kamu utilisation counts the Kamus who belong to the team.`;
  const table = document.createElement("table");
  table.className = "breakdown";
  table.id = "breakdown-table";
  const caption = document.createElement("caption");
  caption.textContent = `Figures by team, ${state.from} to ${state.to}`;
  table.append(caption);
  const head = document.createElement("tr");
  const first = document.createElement("th");
  first.scope = "col";
  first.textContent = "Team";
  head.append(first);
  for (const [, title] of COLUMNS) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = title;
    head.append(th);
  }
  const thead = document.createElement("thead");
  thead.append(head);
  table.append(thead);
  const body = document.createElement("tbody");
  for (const group of [...groups].sort()) {
    const row = document.createElement("tr");
    row.dataset.team = group;
    if (group === state.team) row.className = "selected";
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = group || "(no team)"; // "" groups the people HR gave no team
    row.append(th);
    for (const [figure, title, format] of COLUMNS) {
      const td = document.createElement("td");
      td.dataset.label = title;
      td.dataset.figure = figure;
      const cell = byTeam(figure).find((b) => b.group === group);
      if (!cell) {
        td.textContent = "—";
      } else if (cell.withheld) {
        td.textContent = "withheld";
        td.className = "withheld";
        td.title = withheldText(k);
      } else if (!cell.people) {
        td.textContent = "—";
      } else {
        td.textContent = format(cell);
      }
      row.append(td);
    }
    body.append(row);
  }
  table.append(body);
  $("breakdown").replaceChildren(table);
}

// ---- start --------------------------------------------------------------------------------

function start() {
  const token = takeToken();
  readQuery();
  wireFilters();
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token-input").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $("token-input").value = "";
    load();
  });
  window.addEventListener("hashchange", () => {
    // A link with a new token opened in this tab: only the fragment changed, no reload.
    if (new URLSearchParams(window.location.hash.slice(1)).has("token")) {
      takeToken();
      teamsLoaded = false;
      load();
    }
  });
  if (!token) {
    signIn("This page shows figures only to People Operations, and no token was given.");
    return;
  }
  load();
}

start();
