"""Rendering: every kind in every locale, in the recipient's language and zone, escaped in HTML.

Parameters come from :func:`route` (what a notification really carries), so a template that
needs something routing does not give fails here, not in a dispatcher at night.
"""

from datetime import UTC, datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest
from jinja2 import StrictUndefined

from kamu_notifications.content import render as r
from kamu_notifications.domain import inbound as e
from kamu_notifications.domain.routing import reminder, route

BASE = "https://kamu.example.org/"
C, K = "colleague-1", "kamu-1"
PAIR = {"pairing_id": "pairing-1", "colleague_id": C, "kamu_id": K}
MEETING = {**PAIR, "meeting_id": "meeting-1"}
STARTS = datetime(2025, 6, 2, 7, 0, tzinfo=UTC)  # 10:00 in Helsinki, 03:00 in New York
SLOT = {
    "starts_at": STARTS,
    "time_zone": "Europe/Helsinki",
    "duration_minutes": 45,
    "location": "Room Aalto",
}
TEMPLATES = files("kamu_notifications") / "content" / "templates"
TWO_ROLES = ("meeting-overdue", "goal-review-due")  # worded differently for each member
GREETING = {"en": "Hello", "fi": "Hei"}


def kinds_of(locale: str) -> set[str]:
    """The kinds with templates (``generic`` is the fallback, not a kind)."""
    names = {f.name.removesuffix(".j2") for f in (TEMPLATES / locale).iterdir()}
    return names - {r.GENERIC}


def params_for(kind: str, role: str = "colleague") -> dict:
    """The parameters routing gives the ``role`` member for a notification of ``kind``."""
    events = {
        "pairing-requested": e.PairingRequested(**PAIR),
        "pairing-accepted": e.PairingCreated(**PAIR),
        "pairing-declined": e.PairingDeclined(**PAIR),
        "pairing-withdrawn": e.PairingWithdrawn(**PAIR),
        "pairing-ended": e.PairingEnded(**PAIR, ended_by=None),
        "meeting-scheduled": e.MeetingScheduled(**MEETING, **SLOT),
        "meeting-rescheduled": e.MeetingRescheduled(**MEETING, **SLOT, sequence=2),
        "meeting-cancelled": e.MeetingCancelled(**MEETING, starts_at=STARTS),
        "meeting-overdue": e.MeetingOverdue(**PAIR, lapse=1, nudge=role),
        "goal-review-due": e.GoalReviewDue(
            goal_id="goal-1", owner_id=C, lapse=1, kamu_id=K if role == "kamu" else None
        ),
    }
    if kind == "meeting-reminder":
        planned = reminder({**MEETING, **SLOT, "starts_at": STARTS.isoformat()})
    elif kind == "digest":
        return {}
    else:
        planned = route(events[kind])
    wanted = {"colleague": ("colleague", "owner", None), "kamu": ("kamu",)}[role]
    for p in planned:
        if p.params.get("role") in wanted:
            return p.params
    raise AssertionError(f"no {role} is told of {kind}")


def recipient(locale: str = "en", zone: str = "Europe/Helsinki", **fields) -> r.Recipient:
    return r.Recipient(
        person_id=fields.pop("person_id", C),
        display_name=fields.pop("display_name", "Aino Virtanen"),
        email=fields.pop("email", "aino@example.org"),
        locale=locale,
        zone=ZoneInfo(zone),
        **fields,
    )


def rendered(kind: str, locale: str = "en", role: str = "colleague", **kw) -> r.Rendered:
    who = kw.pop("to", None) or recipient(locale)
    other = kw.pop("other", "Bertta Kamunen")
    items = kw.pop("items", None)
    if kind == "digest" and items is None:
        items = [rendered("meeting-reminder", locale), rendered("goal-review-due", locale)]
    params = kw.pop("params", None) or params_for(kind, role)
    return r.render(kind, params, who, other, base_url=BASE, items=items)


def all_cases() -> list:
    cases = []
    for locale in r.LOCALES:
        for kind in sorted(kinds_of(locale)):
            roles = ["colleague", "kamu"] if kind in TWO_ROLES else [""]
            for role in roles:
                name = f"{locale}-{kind}" + (f"-{role}" if role else "")
                cases.append(pytest.param(kind, locale, role or "colleague", id=name))
    return cases


def test_every_kind_has_a_template_in_every_locale():
    routed = {
        "pairing-requested",
        "pairing-accepted",
        "pairing-declined",
        "pairing-withdrawn",
        "pairing-ended",
        "meeting-scheduled",
        "meeting-rescheduled",
        "meeting-cancelled",
        "meeting-reminder",
        "meeting-overdue",
        "goal-review-due",
        "digest",
    }
    for locale in r.LOCALES:
        assert kinds_of(locale) == routed, locale


def test_templates_fail_loudly_on_anything_missing():
    assert r.environment().undefined is StrictUndefined


@pytest.mark.parametrize(("kind", "locale", "role"), all_cases())
def test_every_template_renders_with_what_routing_gives(kind, locale, role):
    message = rendered(kind, locale, role)

    assert message.subject
    assert "\n" not in message.subject
    assert message.body.startswith(f"{GREETING[locale]} Aino Virtanen,")
    for part in (message.subject, message.body, message.html):
        assert "{{" not in part
        assert "{%" not in part
        assert "None" not in part
    assert message.html.startswith("<!doctype html>")
    if message.link and kind != "digest":  # the digest's: see the regression test below
        assert message.link in message.body
        assert message.link in message.html


@pytest.mark.parametrize(
    "kind",
    sorted(kinds_of("en") - {"digest", "goal-review-due"}),
)
def test_the_other_member_is_named(kind):
    message = rendered(kind, "en")

    assert "Bertta Kamunen" in message.body


@pytest.mark.parametrize("kind", sorted(kinds_of("fi")))
def test_a_finnish_recipient_reads_finnish(kind):
    english, finnish = rendered(kind, "en"), rendered(kind, "fi")

    assert finnish.subject != english.subject
    assert finnish.body.startswith("Hei ")
    assert "Hello" not in finnish.body
    if finnish.link and kind != "digest":
        assert "Avaa Kamussa" in finnish.body
        assert "Open in Kamu" not in finnish.body


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("fi", "fi"),
        ("fi-FI", "fi"),
        ("fi_FI", "fi"),
        ("FI", "fi"),
        ("en-GB", "en"),
        ("sv", "en"),
        ("sv-FI", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_locale_of_reads_the_language_and_falls_back_to_the_default(wanted, expected):
    assert r.locale_of(wanted, "en") == expected


def test_a_locale_without_templates_falls_back_to_a_finnish_default():
    assert r.locale_of("sv", "fi") == "fi"
    assert r.locale_of(None, "fi") == "fi"


def test_times_are_shown_in_the_recipients_zone():
    helsinki = rendered("meeting-scheduled", to=recipient("en", "Europe/Helsinki"))
    new_york = rendered("meeting-scheduled", to=recipient("en", "America/New_York"))

    assert "10:00" in helsinki.subject
    assert "June 2, 2025" in helsinki.subject
    assert "3:00" in new_york.subject
    assert "June 2, 2025" in new_york.subject
    assert "10:00" not in new_york.subject


def test_times_are_written_as_the_recipients_locale_writes_them():
    message = rendered("meeting-scheduled", "fi")

    assert "kesäkuuta 2025" in message.subject  # June
    assert "10.00" in message.subject
    assert "45 minuuttia" in message.body


def test_the_duration_is_in_words():
    assert "(45 minutes)" in rendered("meeting-scheduled", "en").body


def test_the_location_is_shown_only_when_there_is_one():
    with_place = rendered("meeting-scheduled", "en")
    params = {**params_for("meeting-scheduled"), "location": None}
    without = rendered("meeting-scheduled", "en", params=params)

    assert "Where: Room Aalto" in with_place.body
    assert "Where" not in without.body


def test_a_cancellation_by_the_pairings_end_says_so():
    params = {**params_for("meeting-cancelled"), "cause": "pairing-ended"}

    assert "because the pairing ended" in rendered("meeting-cancelled", params=params).body
    assert "because the pairing ended" not in rendered("meeting-cancelled").body


def test_the_html_part_escapes_names():
    message = rendered("pairing-requested", other="<script>alert(1)</script>")

    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "<title>&lt;script&gt;" in message.html
    # The text part is text: it is not HTML-escaped.
    assert message.body.count("<script>alert(1)</script>") == 1


@pytest.mark.parametrize(
    ("kind", "link"),
    [
        ("meeting-scheduled", "https://kamu.example.org/meetings/meeting-1"),
        ("meeting-reminder", "https://kamu.example.org/meetings/meeting-1"),
        ("goal-review-due", "https://kamu.example.org/goals/goal-1"),
        ("pairing-requested", "https://kamu.example.org/pairings/pairing-1"),
        ("meeting-overdue", "https://kamu.example.org/pairings/pairing-1"),
        ("digest", "https://kamu.example.org/inbox"),
    ],
)
def test_links_point_into_the_app(kind, link):
    assert rendered(kind).link == link


@pytest.mark.parametrize("kind", sorted(kinds_of("en") - {"digest"}))
@pytest.mark.parametrize("locale", r.LOCALES)
def test_every_message_shows_its_link_in_both_parts(kind, locale):
    message = rendered(kind, locale)

    assert message.link is not None
    assert message.link in message.body
    assert f'href="{message.link}"' in message.html


def test_the_base_url_may_end_with_a_slash_or_not():
    assert r.link_for("https://kamu.example.org", "x", {"goal_id": "g"}) == (
        "https://kamu.example.org/goals/g"
    )
    assert r.link_for("https://kamu.example.org///", "x", {"goal_id": "g"}) == (
        "https://kamu.example.org/goals/g"
    )
    assert r.link_for(BASE, "pairing-requested", {}) is None


def test_a_digest_lists_its_items():
    items = [rendered("meeting-reminder"), rendered("meeting-overdue")]

    digest = rendered("digest", items=items)

    assert digest.subject == "Your Kamu reminders"
    for item in items:
        assert f"- {item.subject}" in digest.body


@pytest.mark.regression
def test_the_templates_paragraphs_stay_paragraphs():
    message = rendered("meeting-scheduled", "en")

    assert message.body.split("\n\n")[2:] == [
        "Where: Room Aalto",
        "The invitation is attached for your calendar.",
        "Open in Kamu: https://kamu.example.org/meetings/meeting-1",
    ]


@pytest.mark.regression
@pytest.mark.parametrize("locale", r.LOCALES)
def test_a_digest_links_to_the_inbox(locale):
    digest = rendered("digest", locale)

    assert digest.link == "https://kamu.example.org/inbox"
    assert digest.link in digest.body
    assert digest.link in digest.html


@pytest.mark.regression
@pytest.mark.parametrize("locale", ["en", "fi"])
def test_a_kind_without_templates_reads_as_a_plain_message(locale):
    """Was a bug: a kind this version has no templates for (written by a newer one) made the
    inbox and the delivery history answer 500."""
    who = r.Recipient("p", "Ann", "a@example.org", locale, ZoneInfo("Europe/Helsinki"))
    message = r.render("from-a-newer-version", {"goal_id": "g"}, who, None, base_url=BASE)
    assert message.subject in ("News from Kamu", "Uutta Kamussa")
    assert message.link == "https://kamu.example.org/goals/g"


# --- never half-filled -----------------------------------------------------------------------

NAMING = sorted(kinds_of("en") - {"digest"})  # every kind that may name the other member


def other_is_used(kind: str, role: str) -> bool:
    return kind != "goal-review-due" or role == "kamu"


@pytest.mark.parametrize("locale", r.LOCALES)
@pytest.mark.parametrize("kind", NAMING)
@pytest.mark.parametrize("name", [None, "", "  "])
def test_a_message_naming_someone_not_known_yet_is_refused_not_left_blank(kind, locale, name):
    role = "kamu" if kind in TWO_ROLES else "colleague"
    params = params_for(kind, role)

    with pytest.raises(r.Incomplete, match=f"display name of person {params['other_id']}"):
        r.render(kind, params, recipient(locale), name, base_url=BASE)


def test_a_message_that_names_nobody_else_needs_no_other_name():
    message = r.render(
        "goal-review-due", params_for("goal-review-due"), recipient(), None, base_url=BASE
    )

    assert message.subject == "One of your goals is due for review"


@pytest.mark.parametrize("kind", NAMING)
def test_a_recipient_without_a_name_is_refused_too(kind):
    with pytest.raises(r.Incomplete, match="display name of person colleague-1"):
        rendered(kind, to=recipient(display_name=" "))


def test_any_value_printed_blank_is_refused_whatever_the_template():
    """Structural, not per template: a value a template prints may not be None or blank."""
    params = {k: v for k, v in params_for("meeting-scheduled").items() if k != "starts_at"}

    with pytest.raises(r.Incomplete, match="blank"):
        rendered("meeting-scheduled", params=params)


def test_a_name_not_known_may_not_even_be_tested():
    """``{% if other %}`` on an unknown name is refused too: a template cannot skip it silently."""
    template = r.environment().from_string("{% if other %}with {{ other }}{% endif %}")

    with pytest.raises(r.Incomplete, match="display name of person k"):
        template.render(other=r.Unknown("display name of person k"))


@pytest.mark.parametrize("locale", r.LOCALES)
def test_read_in_the_inbox_a_message_that_cannot_be_written_in_full_reads_as_the_plain_one(
    locale,
):
    params = params_for("meeting-scheduled")

    message = r.render_for_reading(
        "meeting-scheduled", params, recipient(locale), None, base_url=BASE
    )

    assert message.subject in ("News from Kamu", "Uutta Kamussa")
    assert message.link == "https://kamu.example.org/meetings/meeting-1"
    assert message.body.startswith(f"{GREETING[locale]} Aino Virtanen,")


def test_read_by_a_recipient_not_known_the_plain_message_greets_without_a_name():
    message = r.render_for_reading(
        "pairing-requested",
        params_for("pairing-requested"),
        recipient(display_name=""),
        None,
        base_url=BASE,
    )

    assert message.body.startswith("Hello,")
