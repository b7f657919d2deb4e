"""A person's preferences, given-when-then: replaced whole, recorded only when they change."""

from datetime import time

import pytest

from kamu_notifications.domain import preferences as p
from kamu_notifications.domain.events import (
    ChannelChoice,
    NotificationSent,
    PreferencesSet,
    QuietHours,
)
from kamu_shared.testing.given_when_then import Decider

preferences = Decider(p.Preferences(), p.decide_set, p.evolve)


def prefs(**changes) -> PreferencesSet:
    fields = {
        "person_id": "person-1",
        "channels": ChannelChoice(),
        "quiet_hours": QuietHours(start=time(22, 0), end=time(7, 0)),
        "webhook_url": "https://hooks.example.org/kamu",
        "digest": "off",
        "digest_at": time(8, 0),
    }
    return PreferencesSet(**{**fields, **changes})


def test_the_first_preferences_are_recorded():
    preferences.given().when(prefs()).then(prefs())


def test_the_same_preferences_again_record_nothing():
    # A fresh, equal command (a repeated PUT), not the same object.
    preferences.given(prefs()).when(prefs()).then()


def test_the_same_preferences_after_a_change_back_record_nothing():
    preferences.given(prefs(), prefs(digest="daily"), prefs()).when(prefs()).then()


@pytest.mark.parametrize(
    "change",
    [
        {"channels": ChannelChoice(email=False)},
        {"channels": ChannelChoice(inapp=False)},
        {"quiet_hours": None},
        {"quiet_hours": QuietHours(start=time(21, 0), end=time(7, 0))},
        {"webhook_url": None},
        {"webhook_url": "https://hooks.example.org/other"},
        {"digest": "daily"},
        {"digest_at": time(8, 30)},
    ],
    ids=lambda change: next(iter(change)),
)
def test_any_change_records_exactly_the_new_preferences(change):
    preferences.given(prefs()).when(prefs(**change)).then(prefs(**change))


def test_the_defaults_differ_from_no_preferences_at_all():
    # Even preferences equal to the defaults are recorded the first time: they become explicit.
    defaults = prefs(quiet_hours=None, webhook_url=None)

    preferences.given().when(defaults).then(defaults)


def test_evolve_replaces_the_preferences_whole():
    first = prefs(digest="daily", channels=ChannelChoice(slack=False))
    second = prefs(quiet_hours=None, webhook_url=None)

    state = preferences.given(first, second).state

    assert state.current == second
    assert state.current.quiet_hours is None
    assert state.current.digest == "off"
    assert state.current.channels.slack is True


def test_evolve_ignores_events_of_other_kinds():
    before = preferences.given(prefs()).state
    sent = NotificationSent(
        notification_id="n-1",
        recipient_id="person-1",
        channel="email",
        kind="pairing-requested",
        cause_id="c-1",
        attempts=1,
    )

    assert p.evolve(before, sent) == before
    assert p.evolve(p.Preferences(), sent) == p.Preferences()


def test_a_changed_field_after_an_unrelated_event_is_still_news():
    sent = NotificationSent(
        notification_id="n-1",
        recipient_id="person-1",
        channel="email",
        kind="pairing-requested",
        cause_id="c-1",
        attempts=1,
    )

    preferences.given(prefs(), sent).when(prefs()).then()
    preferences.given(prefs(), sent).when(prefs(digest="daily")).then(prefs(digest="daily"))
