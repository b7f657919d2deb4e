// Small hand-written SVG charts: lines and bars over categories (months, teams, channels).
//
// A chart is a <figure> with a heading, an <svg role="img"> carrying an aria-label that says
// what it shows, a legend and the same numbers as a table in <details>. A value of null is a
// gap, never a zero; a category whose figure is withheld (too few people) gets a hatched band
// across the plot, named in the legend and the table.

const SVG = "http://www.w3.org/2000/svg";

// Series colours: each has a contrast of at least 4.5:1 on white (WCAG 1.4.11 asks 3:1).
export const COLOURS = ["#1f5fbf", "#b3431b", "#2b7a3d", "#6b3fa0", "#8a6500"];
const GRID = "#d5d9e0";
const AXIS = "#4a5361";
const HATCH = "#8a919c";

let serial = 0;

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function html(name, attrs = {}, text) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * power) return step * power;
  }
  return 10 * power;
}

// Ticks that fall on round numbers for each nice maximum (1, 2, 2.5, 5 or 10 times a power).
const TICKS = { 1: 5, 2: 4, 2.5: 5, 5: 5, 10: 5 };

export function plain(v) {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function axisRange(axis, values) {
  const min = axis.min ?? 0;
  const max = axis.max ?? niceMax(Math.max(0, ...values.filter((v) => v !== null)));
  const power = 10 ** Math.floor(Math.log10(max - min || 1));
  const ticks = axis.ticks ?? TICKS[Math.round(((max - min) / power) * 10) / 10] ?? 4;
  return { min, max, format: axis.format ?? plain, ticks };
}

function shown(value) {
  return value !== null && value !== undefined && Number.isFinite(value);
}

// spec: {id, title, subtitle, summary, labels[], labelName, tick(label), series[{name, colour,
// type: "line"|"bar", axis: "left"|"right", values[], withheld[], format, dashed}], left: {min,
// max, format, ticks}, right, stacked, height, withheldNote}
export function chart(spec, width) {
  const id = `${spec.id}-${++serial}`;
  const figure = html("figure", { class: "chart", id: spec.id, "data-chart": spec.id });
  const heading = html("h3", { id: `${id}-title` }, spec.title);
  figure.append(heading);
  if (spec.subtitle) figure.append(html("p", { class: "subtitle" }, spec.subtitle));

  const n = spec.labels.length;
  // A category is hatched when any series is withheld there; the table says which.
  const withheld = spec.labels.map((_, i) => spec.series.some((s) => s.withheld?.[i]));
  const height = spec.height ?? 220;
  const right = spec.series.some((s) => s.axis === "right");
  const pad = { top: 12, right: right ? 44 : 12, bottom: 30, left: 44 };
  const plotW = Math.max(40, width - pad.left - pad.right);
  const plotH = height - pad.top - pad.bottom;
  const band = plotW / Math.max(1, n);
  const x = (i) => pad.left + band * (i + 0.5);

  const leftValues = [];
  const rightValues = [];
  const stackTotals = new Array(n).fill(0);
  for (const s of spec.series) {
    s.values.forEach((v, i) => {
      if (!shown(v)) return;
      if (spec.stacked && s.type === "bar") stackTotals[i] += v;
      else (s.axis === "right" ? rightValues : leftValues).push(v);
    });
  }
  leftValues.push(...stackTotals);
  const scales = {
    left: axisRange(spec.left ?? {}, leftValues),
    right: axisRange(spec.right ?? {}, rightValues),
  };
  const y = (axis, v) => {
    const r = scales[axis];
    const t = (v - r.min) / (r.max - r.min || 1);
    return pad.top + plotH * (1 - Math.min(1, Math.max(0, t)));
  };

  const drawn = new Set();
  const svg = el("svg", {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-labelledby": `${id}-title`,
    "aria-label": spec.summary,
    focusable: "false",
  });
  svg.append(el("title", {}, spec.title));
  const defs = el("defs");
  const pattern = el("pattern", {
    id: `${id}-hatch`,
    width: 6,
    height: 6,
    patternUnits: "userSpaceOnUse",
    patternTransform: "rotate(45)",
  });
  pattern.append(el("rect", { width: 6, height: 6, fill: "#f1f2f4" }));
  pattern.append(el("rect", { width: 2, height: 6, fill: HATCH }));
  defs.append(pattern);
  svg.append(defs);

  // Withheld bands first, under everything else.
  withheld.forEach((w, i) => {
    if (!w) return;
    svg.append(
      el("rect", {
        x: pad.left + band * i + 1,
        y: pad.top,
        width: Math.max(1, band - 2),
        height: plotH,
        fill: `url(#${id}-hatch)`,
        class: "withheld-band",
      }),
    );
    if (band >= 56) {
      svg.append(
        el(
          "text",
          { x: x(i), y: pad.top + 14, "text-anchor": "middle", class: "band-label" },
          "withheld",
        ),
      );
    }
  });

  // Grid and axes.
  const grid = el("g", { class: "grid" });
  const left = scales.left;
  for (let t = 0; t <= left.ticks; t++) {
    const v = left.min + ((left.max - left.min) * t) / left.ticks;
    const yy = Math.round(y("left", v)) + 0.5;
    grid.append(el("line", { x1: pad.left, x2: pad.left + plotW, y1: yy, y2: yy, stroke: GRID }));
    grid.append(
      el("text", { x: pad.left - 6, y: yy + 4, "text-anchor": "end", fill: AXIS }, left.format(v)),
    );
    if (right) {
      const r = scales.right;
      const rv = r.min + ((r.max - r.min) * t) / r.ticks;
      grid.append(
        el("text", { x: pad.left + plotW + 6, y: yy + 4, fill: AXIS }, r.format(rv)),
      );
    }
  }
  const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(plotW / 52))));
  spec.labels.forEach((label, i) => {
    if (i % every !== 0) return;
    grid.append(
      el(
        "text",
        { x: x(i), y: height - 10, "text-anchor": "middle", fill: AXIS },
        spec.tick ? spec.tick(label) : label,
      ),
    );
  });
  svg.append(grid);

  // Bars (grouped, or stacked), then lines with a dot at every shown value.
  const bars = spec.series.filter((s) => s.type === "bar");
  const inner = spec.stacked ? 1 : Math.max(1, bars.length);
  const barW = Math.max(2, Math.min(40, (band * 0.76) / inner));
  const base = new Array(n).fill(0);
  bars.forEach((s, k) => {
    s.values.forEach((v, i) => {
      if (!shown(v) || v <= 0) return;
      const offset = spec.stacked ? -barW / 2 : -(barW * inner) / 2 + barW * k;
      const bottom = spec.stacked ? base[i] : 0;
      const top = y(s.axis ?? "left", bottom + v);
      const yBottom = y(s.axis ?? "left", bottom);
      svg.append(
        el("rect", {
          x: x(i) + offset,
          y: top,
          width: barW,
          height: Math.max(1, yBottom - top),
          fill: s.colour,
        }),
      );
      if (spec.stacked) base[i] += v;
      drawn.add(s.colour);
    });
  });
  for (const s of spec.series.filter((s) => s.type !== "bar")) {
    const axis = s.axis ?? "left";
    let d = "";
    let open = false;
    s.values.forEach((v, i) => {
      if (!shown(v)) {
        open = false;
        return;
      }
      d += `${open ? "L" : "M"}${x(i).toFixed(1)},${y(axis, v).toFixed(1)}`;
      open = true;
    });
    if (d) {
      svg.append(
        el("path", {
          d,
          fill: "none",
          stroke: s.colour,
          "stroke-width": 2.5,
          "stroke-linejoin": "round",
          "stroke-dasharray": s.dashed ? "6 4" : "none",
        }),
      );
    }
    s.values.forEach((v, i) => {
      if (!shown(v)) return;
      svg.append(el("circle", { cx: x(i), cy: y(axis, v), r: 4, fill: s.colour }));
      drawn.add(s.colour);
    });
  }
  svg.dataset.drawn = [...drawn].join(" ");
  figure.append(svg);

  // Legend: series, and the hatch when something is withheld.
  const legend = html("ul", { class: "legend" });
  for (const s of spec.series) {
    const item = html("li");
    const key = html("span", { class: `key ${s.type === "bar" ? "bar" : "line"}`, "aria-hidden": "true" });
    key.style.backgroundColor = s.colour;
    item.append(key, document.createTextNode(s.axis === "right" ? `${s.name} (right axis)` : s.name));
    legend.append(item);
  }
  if (withheld.some(Boolean)) {
    const item = html("li");
    item.append(html("span", { class: "key hatch", "aria-hidden": "true" }));
    item.append(document.createTextNode(spec.withheldNote ?? "withheld (too few people)"));
    legend.append(item);
  }
  figure.append(legend);
  figure.append(table(spec));
  return figure;
}

function table(spec) {
  const details = html("details", { class: "data" });
  details.append(html("summary", {}, "Show the numbers as a table"));
  const t = html("table");
  t.append(html("caption", {}, spec.title));
  const head = html("tr");
  head.append(html("th", { scope: "col" }, spec.labelName ?? "Month"));
  for (const s of spec.series) head.append(html("th", { scope: "col" }, s.name));
  const thead = html("thead");
  thead.append(head);
  t.append(thead);
  const body = html("tbody");
  spec.labels.forEach((label, i) => {
    const row = html("tr");
    row.append(html("th", { scope: "row" }, label));
    for (const s of spec.series) {
      const v = s.values[i];
      let text = "—";
      if (s.withheld?.[i]) text = "withheld";
      else if (shown(v)) text = (s.format ?? String)(v);
      row.append(html("td", text === "withheld" ? { class: "withheld" } : {}, text));
    }
    body.append(row);
  });
  t.append(body);
  details.append(t);
  return details;
}
