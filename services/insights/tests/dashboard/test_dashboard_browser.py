"""The dashboard in a real headless Chromium (Debian's package), served over real HTTP.

A small history is published with event times chosen around today: Sales (6 people), Ops (6),
Support (5, the Kamus) and Tiny (3, too small to be shown), over the last three calendar
months. The figures below are worked out by hand from it. Screenshots (the whole page) are
saved under the test's tmp folder; their paths are in the assertion messages.
"""

import asyncio
import contextlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn

from kamu_devstack.browser import (
    LAPTOP,
    PHONE,
    Viewport,
    boxes,
    chromium,
    colour_pixels,
    console_errors,
    full_page_screenshot,
)
from kamu_goals.domain import events as goals
from kamu_insights.figures.periods import add_months
from kamu_meetings.domain import events as meetings
from kamu_notifications.domain import events as notifications
from kamu_shared.auth.mint import mint_token

# Series drawn in each chart of the whole organisation's view of this history.
WITHHELD = "Withheld: it, or a group beside it, would describe fewer than 5 people."
CHARTS = {
    "chart-coverage": 1,
    "chart-feedback": 2,
    "chart-cadence": 1,
    "chart-goals": 4,
    "chart-load": 2,
    "chart-days": 2,
    "chart-categories": 3,
    "chart-channels": 3,
}
MIN_PIXELS = 20  # a dot of radius 4 alone has about 30 pixels of its exact colour


# ---- serving the running app over HTTP ---------------------------------------------------


@pytest.fixture
async def base_url(service):
    """The ``service`` fixture's app (its lifespan already ran) on a free port of 127.0.0.1."""
    config = uvicorn.Config(
        service.app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


def _token(service, *roles: str) -> str:
    secret = service.settings.jwt_secret
    secret = getattr(secret, "get_secret_value", lambda: secret)()
    return mint_token(secret=secret, sub="po-1", roles=list(roles or ("people-ops",)))


# ---- the history --------------------------------------------------------------------------


class Period:
    """The last three calendar months (UTC): m2, m1 and this month (m0, measured now)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.m0 = now.date().replace(day=1)
        self.m1 = add_months(self.m0, -1)
        self.m2 = add_months(self.m0, -2)

    @staticmethod
    def day(month: date, day: int, hour: int = 12) -> datetime:
        return datetime(month.year, month.month, day, hour, tzinfo=UTC)

    @staticmethod
    def label(month: date) -> str:
        return month.strftime("%Y-%m")


async def publish_history(service, p: Period) -> None:
    day = p.day
    sales = await service.team("Sales", 6, day(p.m2, 2))
    ops = await service.team("Ops", 6, day(p.m2, 2))
    tiny = await service.team("Tiny", 3, day(p.m2, 2))
    kamus = await service.team("Support", 5, day(p.m2, 2))
    for k in kamus:
        await service.kamu(k, day(p.m2, 3), capacity=4, hours=4.0)

    # Sales 1-5 paired in m2 (waited 2, 4, 6, 8, 10 days), Ops 1-5 in m1 (1, 3, 5, 7, 9 days).
    safety = {"s": [5, 4, 4, 5, 5], "o": [4, 4, 5, 4, 3]}
    useful = {"s": [4, 4, 3, 4, 5], "o": [3, 4, 4, 3, 4]}
    for i in range(5):
        for tag, people, month, waited, first in (
            ("s", sales, p.m2, 2 * i + 2, 12 + i),  # first meeting 2..6 days after pairing
            ("o", ops, p.m1, 2 * i + 1, 11 + i),  # 1..5 days
        ):
            pid, colleague, kamu = f"{tag}{i}", people[i], kamus[i]
            paired = day(month, 10)
            await service.requested(pid, colleague, kamu, paired - timedelta(days=waited))
            await service.paired(pid, colleague, kamu, paired, cadence=2)
            held = day(month, first)
            await service.meeting(f"{pid}-first", pid, colleague, kamu, held)
            await service.rating(
                f"{pid}-first",
                pid,
                colleague,
                kamu,
                "colleague",
                safety[tag][i],
                useful[tag][i],
                held,
            )
        # Sales meet again on the 25th of m2 and m1; Ops 1-3 on the 25th of m1.
        await service.meeting(f"s{i}-m2", f"s{i}", sales[i], kamus[i], day(p.m2, 25))
        await service.meeting(f"s{i}-m1", f"s{i}", sales[i], kamus[i], day(p.m1, 25))
        if i < 3:
            await service.meeting(f"o{i}-m1", f"o{i}", ops[i], kamus[i], day(p.m1, 25))
    # Ops 4 and 5 are overdue since their first meeting.
    for i in (3, 4):
        await service.publish(
            meetings.registry,
            meetings.MeetingOverdue(
                pairing_id=f"o{i}",
                colleague_id=ops[i],
                kamu_id=kamus[i],
                cadence_weeks=2,
                lapse=1,
                since=day(p.m1, 11 + i),
                nudge="colleague",
            ),
            f"pairing-o{i}",
            day(p.m1, 28),
        )
    # Five requests wait now: for 2, 4, 6, 8 and 10 days (median 6).
    for n, colleague in enumerate([sales[5], ops[5], *tiny]):
        await service.requested(f"w{n}", colleague, kamus[0], p.now - timedelta(days=2 * n + 2))

    # Goals: Sales 1-5 set professional goals in m2, Ops 1-5 wellbeing goals in m1; in m1 the
    # Sales goals are reviewed (4 of 5 on time) and two are completed.
    for i in range(5):
        for owner, category, month in (
            (sales[i], "professional", p.m2),
            (ops[i], "wellbeing", p.m1),
        ):
            await service.publish(
                goals.registry,
                goals.GoalSet(
                    goal_id=f"g-{owner}",
                    owner_id=owner,
                    title="A goal",
                    category=category,
                    target_date=add_months(p.m0, 6),
                    review_interval_weeks=4,
                    visibility="private",
                ),
                f"goal-g-{owner}",
                day(month, 18),
            )
        await service.publish(
            goals.registry,
            goals.GoalReviewed(
                goal_id=f"g-{sales[i]}",
                owner_id=sales[i],
                reviewed_by=sales[i],
                reviewer_role="owner",
                outcome="keep",
                on_time=i < 4,
            ),
            f"goal-g-{sales[i]}",
            day(p.m1, 20),
        )
        if i < 2:
            await service.publish(
                goals.registry,
                goals.GoalCompleted(
                    goal_id=f"g-{sales[i]}", owner_id=sales[i], completed_by=sales[i]
                ),
                f"goal-g-{sales[i]}",
                day(p.m1, 26),
            )

    # Notifications in m1: email sent to Sales and Ops (12) and one failed; Slack sent to the
    # Kamus (5) and turned off by Sales 1-5.
    def outcome(cls, nid, who, channel, **extra):
        return cls(
            notification_id=nid,
            recipient_id=who,
            channel=channel,
            kind="meeting-reminder",
            cause_id=f"cause-{nid}",
            **extra,
        )

    deliveries = [
        outcome(notifications.NotificationSent, f"e-{x}", x, "email", attempts=1)
        for x in sales + ops
    ]
    deliveries.append(
        outcome(
            notifications.NotificationFailed,
            "e-fail",
            ops[5],
            "email",
            attempts=3,
            reason="refused",
        )
    )
    deliveries += [
        outcome(notifications.NotificationSent, f"s-{k}", k, "slack", attempts=1) for k in kamus
    ]
    deliveries += [
        outcome(notifications.NotificationSuppressed, f"s-{x}", x, "slack", reason="preference-off")
        for x in sales[:5]
    ]
    for event in deliveries:
        await service.publish(
            notifications.registry, event, f"notification-{event.notification_id}", day(p.m1, 5)
        )
    await service.settled()


# ---- what the browser does ----------------------------------------------------------------


def _wait_ready(driver, status_contains: str = "") -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d) -> bool:
        state = d.execute_script("return document.body.dataset.state")
        if state == "error":
            raise AssertionError(d.find_element("id", "problem").text)
        return state == "ready" and status_contains in d.find_element("id", "status").text

    WebDriverWait(driver, 30, poll_frequency=0.1).until(ready)


def _tiles(driver) -> dict[str, tuple[str, str]]:
    found = driver.execute_script(
        "return [...document.querySelectorAll('[data-tile]')].map(t => [t.dataset.tile,"
        " t.querySelector('.value').textContent, t.querySelector('.detail').textContent]);"
    )
    return {key: (value, detail) for key, value, detail in found}


def _table(driver) -> dict[str, dict[str, str]]:
    rows = driver.execute_script(
        "return [...document.querySelectorAll('#breakdown-table tbody tr')]"
        ".map(r => [r.dataset.team, [...r.querySelectorAll('td')]"
        ".map(td => [td.dataset.label, td.textContent])]);"
    )
    return {team: dict(cells) for team, cells in rows}


def _check_charts(driver, shot: Path, viewport: Viewport) -> None:
    """Every chart is drawn: its series' colours are in the screenshot inside its <svg>."""
    image = full_page_screenshot(driver, shot, viewport)
    found = boxes(driver, "figure.chart svg", key="data-chart")
    drawn = driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('figure.chart')]"
        ".map(f => [f.id, f.querySelector('svg').dataset.drawn]));"
    )
    assert set(found) == set(CHARTS), f"charts on the page: {sorted(found)}; see {shot}"
    scale = image.width / driver.execute_script("return window.innerWidth")
    for chart_id, series in CHARTS.items():
        colours = drawn[chart_id].split()
        assert len(colours) == series, f"{chart_id} drew {colours}; see {shot}"
        box = found[chart_id]
        assert box.width > 0, f"{chart_id} has no size; see {shot}"
        assert box.height > 0, f"{chart_id} has no size; see {shot}"
        scaled = type(box)(box.left * scale, box.top * scale, box.width * scale, box.height * scale)
        for colour in colours:
            pixels = colour_pixels(image, scaled, colour)
            assert pixels >= MIN_PIXELS, (
                f"{chart_id}: {pixels} pixels of {colour} inside {box}; see {shot}"
            )


def _open(driver, url: str, status: str = "") -> None:
    driver.get(url)
    _wait_ready(driver, status)


def laptop(base: str, token: str, p: Period, tmp: Path) -> None:
    period = f"from={p.label(p.m2)}&to={p.label(p.m0)}"
    with chromium(tmp / "laptop-profile", LAPTOP) as driver:
        _open(driver, f"{base}/dashboard?{period}#token={token}", "Whole organisation")
        shot = tmp / "dashboard-laptop.png"

        # The token left the address bar and lives in this tab only.
        assert "token" not in driver.current_url
        assert (
            driver.execute_script("return sessionStorage.getItem('kamu.insights.token')") == token
        )

        tiles = _tiles(driver)
        assert tiles == {
            "coverage": ("50%", "10 of 20 people, now"),
            "overdue": ("20%", "2 of 10 active pairings, now"),
            "waiting": ("5", "median wait 6.0 days, now"),
            "utilisation": (
                "50%",
                f"10 pairings for 20 places, now; 0% of allocated hours met in {p.label(p.m0)}",
            ),
            "safety": ("4.3 / 5", f"average of 10 ratings from {p.label(p.m2)} to {p.label(p.m0)}"),
            "usefulness": (
                "3.8 / 5",
                f"average of 10 ratings from {p.label(p.m2)} to {p.label(p.m0)}",
            ),
        }, f"tiles: {tiles}; see {shot}"

        # The small team is withheld, with the reason, and with it every team's coverage (or
        # the whole minus the others would give Tiny away); figures where no team is small are
        # shown.
        table = _table(driver)
        assert sorted(table) == ["Ops", "Sales", "Support", "Tiny"], f"{table}; see {shot}"
        assert table["Tiny"]["People with a Kamu"] == "withheld", f"{table['Tiny']}; see {shot}"
        assert table["Tiny"]["Waiting now"] == "withheld"
        assert table["Sales"]["People with a Kamu"] == "withheld"
        assert table["Ops"]["Overdue now"] == "2 of 5"
        assert table["Sales"]["Psychological safety"] == "4.6"
        explained = driver.execute_script(
            "return document.querySelector('tr[data-team=Tiny] td.withheld').title"
        )
        assert explained == WITHHELD
        assert "fewer than 5 people" in driver.find_element("id", "withheld-note").text

        _check_charts(driver, shot, LAPTOP)
        assert console_errors(driver) == [], f"browser console errors; see {shot}"

        # Filter: one team. The request, the address and the figures follow.
        from selenium.webdriver.support.ui import Select

        Select(driver.find_element("id", "team")).select_by_visible_text("Sales")
        _wait_ready(driver, "Sales,")
        requested = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => n.includes('/programme/overview'))"
        )
        assert requested[-1] == f"{base}/programme/overview?team=Sales&{period}", requested
        assert driver.execute_script("return location.search") == f"?team=Sales&{period}"
        shot = tmp / "dashboard-laptop-sales.png"
        full_page_screenshot(driver, shot, LAPTOP)
        tiles = _tiles(driver)
        assert tiles["coverage"][0] == "withheld", f"{tiles}; see {shot}"  # Tiny is small
        assert tiles["overdue"] == ("0%", "0 of 5 active pairings, now"), f"{tiles}; see {shot}"
        assert tiles["waiting"] == (
            "withheld",
            WITHHELD,
        ), f"{tiles}; see {shot}"
        assert tiles["safety"][0] == "4.6 / 5", f"{tiles}; see {shot}"
        assert tiles["usefulness"][0] == "4.0 / 5", f"{tiles}; see {shot}"

        # Preset: the last 6 months, still for Sales.
        driver.find_element("css selector", "button[data-months='6']").click()
        six = f"from={p.label(add_months(p.m0, -5))}&to={p.label(p.m0)}"
        _wait_ready(driver, f"Sales, {p.label(add_months(p.m0, -5))}")
        assert driver.execute_script("return location.search") == f"?team=Sales&{six}"
        assert driver.find_element("id", "from").get_attribute("value") == p.label(
            add_months(p.m0, -5)
        )
        assert console_errors(driver) == [], f"browser console errors; see {shot}"

        # A shared link (no token in it) opens the same view in another tab of this session.
        driver.get(f"{base}/dashboard?team=Sales&{period}")
        _wait_ready(driver, "Sales,")
        assert _tiles(driver)["safety"][0] == "4.6 / 5"


def phone(base: str, token: str, p: Period, tmp: Path) -> None:
    period = f"from={p.label(p.m2)}&to={p.label(p.m0)}"
    with chromium(tmp / "phone-profile", PHONE) as driver:
        _open(driver, f"{base}/dashboard?{period}#token={token}", "Whole organisation")
        shot = tmp / "dashboard-phone.png"
        _check_charts(driver, shot, PHONE)
        width = driver.execute_script("return window.innerWidth")
        scroll = driver.execute_script("return document.documentElement.scrollWidth")
        assert width == PHONE.width, f"the page's viewport is {width} px wide; see {shot}"
        assert scroll <= width, f"{scroll} px of content in {width} px; see {shot}"
        columns = driver.execute_script(
            "return ['tiles', 'trends'].map(id => getComputedStyle(document.getElementById(id))"
            ".gridTemplateColumns.split(' ').length)"
        )
        assert columns == [1, 1], f"grid columns on a phone: {columns}; see {shot}"
        assert _tiles(driver)["coverage"][0] == "50%"
        assert _table(driver)["Tiny"]["People with a Kamu"] == "withheld"
        assert console_errors(driver) == [], f"browser console errors; see {shot}"


def without_token(base: str, employee: str, tmp: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(tmp / "anonymous-profile", LAPTOP) as driver:
        driver.get(f"{base}/dashboard")
        WebDriverWait(driver, 20).until(
            lambda d: d.execute_script("return document.body.dataset.state") == "signin"
        )
        text = driver.find_element("id", "signin").text
        assert "./kamu token --sub <your id> --roles people-ops" in text, text
        assert f"{base}/dashboard#token=<the token>" in text, text
        assert not driver.find_element("id", "content").is_displayed()
        assert console_errors(driver) == []

        # A token without the people-ops role: told so, and nothing shown.
        driver.get(f"{base}/dashboard#token={employee}")
        WebDriverWait(driver, 20).until(
            lambda d: "people-ops role" in d.find_element("id", "signin-reason").text
        )
        assert driver.execute_script("return document.body.dataset.state") == "signin"
        assert "token" not in driver.current_url
        assert all("403" in e for e in console_errors(driver))  # the refused request itself


# ---- the tests ----------------------------------------------------------------------------


async def test_dashboard_on_a_laptop_shows_the_figures_and_follows_the_filters(
    service, base_url, tmp_path
):
    period = Period(datetime.now(UTC))
    await publish_history(service, period)
    await asyncio.to_thread(laptop, base_url, _token(service), period, tmp_path)


async def test_dashboard_on_a_phone_is_one_column_without_sideways_scrolling(
    service, base_url, tmp_path
):
    period = Period(datetime.now(UTC))
    await publish_history(service, period)
    await asyncio.to_thread(phone, base_url, _token(service), period, tmp_path)


async def test_dashboard_without_a_people_ops_token_says_how_to_get_one(
    service, base_url, tmp_path
):
    await asyncio.to_thread(without_token, base_url, _token(service, "employee"), tmp_path)
