"""Quiet hours, digest times and retry backoff, in the person's own zone and across DST.

Europe/Helsinki in 2025: summer time starts Sunday 30 March (03:00 EET -> 04:00 EEST, at 01:00
UTC) and ends Sunday 26 October (04:00 EEST -> 03:00 EET, at 01:00 UTC).
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kamu_notifications.domain.events import QuietHours
from kamu_notifications.domain.quiet import backoff, next_digest, quiet_until

HELSINKI = ZoneInfo("Europe/Helsinki")
NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")
NIGHT = QuietHours(start=time(22, 0), end=time(7, 0))
LUNCH = QuietHours(start=time(12, 0), end=time(13, 0))


def at(zone: ZoneInfo, *fields: int, fold: int = 0) -> datetime:
    """A local wall-clock time in ``zone``, as an aware UTC instant."""
    return datetime(*fields, tzinfo=zone, fold=fold).astimezone(UTC)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def test_no_quiet_hours_never_defer():
    assert quiet_until(utc(2025, 6, 2, 3, 0), HELSINKI, None) is None


def test_quiet_hours_that_start_when_they_end_are_empty():
    same = QuietHours(start=time(9, 0), end=time(9, 0))

    assert quiet_until(utc(2025, 6, 2, 9, 0), UTC_ZONE, same) is None


@pytest.mark.parametrize(
    ("local", "until"),
    [
        ((2025, 6, 2, 12, 30), (2025, 6, 2, 13, 0)),
        ((2025, 6, 2, 12, 0), (2025, 6, 2, 13, 0)),  # the start is inside
        ((2025, 6, 2, 12, 59, 59), (2025, 6, 2, 13, 0)),
        ((2025, 6, 2, 13, 0), None),  # the end is outside
        ((2025, 6, 2, 11, 59, 59), None),
        ((2025, 6, 2, 23, 0), None),
    ],
)
def test_quiet_hours_within_a_day(local, until):
    expected = None if until is None else utc(*until)

    assert quiet_until(utc(*local), UTC_ZONE, LUNCH) == expected


@pytest.mark.parametrize(
    ("local", "until"),
    [
        ((2025, 6, 2, 23, 0), (2025, 6, 3, 7, 0)),  # before midnight: ends tomorrow
        ((2025, 6, 2, 22, 0), (2025, 6, 3, 7, 0)),  # exactly at the start
        ((2025, 6, 3, 0, 0), (2025, 6, 3, 7, 0)),  # midnight
        ((2025, 6, 3, 2, 0), (2025, 6, 3, 7, 0)),  # after midnight: ends today
        ((2025, 6, 3, 6, 59, 59), (2025, 6, 3, 7, 0)),
        ((2025, 6, 3, 7, 0), None),  # exactly at the end
        ((2025, 6, 2, 21, 59, 59), None),
        ((2025, 6, 2, 12, 0), None),
    ],
)
def test_quiet_hours_spanning_midnight(local, until):
    expected = None if until is None else utc(*until)

    assert quiet_until(utc(*local), UTC_ZONE, NIGHT) == expected


def test_quiet_hours_are_read_in_the_persons_zone():
    # 19:30 UTC is 22:30 in Helsinki in June (UTC+3): quiet there, not in UTC.
    now = utc(2025, 6, 2, 19, 30)

    assert quiet_until(now, HELSINKI, NIGHT) == at(HELSINKI, 2025, 6, 3, 7, 0)
    assert quiet_until(now, HELSINKI, NIGHT) == utc(2025, 6, 3, 4, 0)
    assert quiet_until(now, UTC_ZONE, NIGHT) is None


def test_quiet_hours_west_of_utc():
    # 03:00 UTC is 23:00 the day before in New York (UTC-4 in June).
    now = utc(2025, 6, 3, 3, 0)

    assert quiet_until(now, NEW_YORK, NIGHT) == utc(2025, 6, 3, 11, 0)


def test_the_end_of_quiet_hours_is_an_aware_utc_instant():
    until = quiet_until(at(HELSINKI, 2025, 6, 2, 23, 0), HELSINKI, NIGHT)

    assert until is not None
    assert until.utcoffset() == timedelta(0)


def test_a_night_into_summer_time_ends_at_seven_on_the_new_clock():
    now = at(HELSINKI, 2025, 3, 29, 23, 0)  # EET, UTC+2

    until = quiet_until(now, HELSINKI, NIGHT)

    assert until == utc(2025, 3, 30, 4, 0)  # 07:00 EEST, UTC+3
    assert until - now == timedelta(hours=7)  # the night is an hour shorter


def test_a_night_out_of_summer_time_ends_at_seven_on_the_new_clock():
    now = at(HELSINKI, 2025, 10, 25, 23, 0)  # EEST, UTC+3

    until = quiet_until(now, HELSINKI, NIGHT)

    assert until == utc(2025, 10, 26, 5, 0)  # 07:00 EET, UTC+2
    assert until - now == timedelta(hours=9)  # the night is an hour longer


def test_quiet_hours_ending_in_the_skipped_hour_end_later_not_earlier():
    # 03:30 does not exist in Helsinki on 30 March 2025: the clock jumps from 03:00 to 04:00.
    early = QuietHours(start=time(1, 0), end=time(3, 30))
    now = utc(2025, 3, 30, 0, 30)  # 02:30 EET

    until = quiet_until(now, HELSINKI, early)

    assert until is not None
    assert until > now
    assert until == utc(2025, 3, 30, 1, 30)  # 04:30 EEST


@pytest.mark.regression
def test_quiet_hours_ending_in_the_repeated_hour_never_end_in_the_past():
    early = QuietHours(start=time(1, 0), end=time(3, 30))
    now = utc(2025, 10, 26, 1, 15)  # the second 03:15 (EET), after the first 03:30
    assert now.astimezone(HELSINKI).strftime("%H:%M") == "03:15"

    until = quiet_until(now, HELSINKI, early)

    assert until is not None
    assert until > now


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2025, 6, 2, 4, 59), utc(2025, 6, 2, 5, 0)),  # 07:59 Helsinki: today 08:00
        (utc(2025, 6, 2, 5, 0), utc(2025, 6, 3, 5, 0)),  # exactly 08:00: tomorrow
        (utc(2025, 6, 2, 5, 0, 1), utc(2025, 6, 3, 5, 0)),
        (utc(2025, 6, 2, 21, 30), utc(2025, 6, 3, 5, 0)),  # 00:30 on the 3rd, local
        (utc(2025, 6, 2, 20, 59), utc(2025, 6, 3, 5, 0)),  # 23:59 on the 2nd, local
    ],
)
def test_the_next_digest_is_strictly_after_now_in_the_persons_zone(now, expected):
    assert next_digest(now, HELSINKI, time(8, 0)) == expected


def test_the_next_digest_across_the_spring_change_keeps_the_wall_clock():
    now = at(HELSINKI, 2025, 3, 29, 8, 0)  # the digest just went out, EET

    due = next_digest(now, HELSINKI, time(8, 0))

    assert due == utc(2025, 3, 30, 5, 0)  # 08:00 EEST
    assert due - now == timedelta(hours=23)


def test_the_next_digest_across_the_autumn_change_keeps_the_wall_clock():
    now = at(HELSINKI, 2025, 10, 25, 8, 0)  # EEST

    due = next_digest(now, HELSINKI, time(8, 0))

    assert due == utc(2025, 10, 26, 6, 0)  # 08:00 EET
    assert due - now == timedelta(hours=25)


@pytest.mark.parametrize("zone", [HELSINKI, NEW_YORK, UTC_ZONE], ids=str)
@pytest.mark.parametrize("start", [utc(2025, 3, 27), utc(2025, 10, 23)], ids=["spring", "autumn"])
def test_the_next_digest_is_always_soon_after_now_and_at_the_chosen_local_time(zone, start):
    digest_at = time(8, 0)
    for step in range(0, 5 * 24 * 4):  # every quarter of an hour over five days
        now = start + timedelta(minutes=15 * step)

        due = next_digest(now, zone, digest_at)

        assert due > now
        assert due - now <= timedelta(hours=25)
        assert due.astimezone(zone).time() == digest_at


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(0, 30), (1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (7, 1920), (8, 3600), (30, 3600)],
)
def test_backoff_doubles_from_the_initial_wait_up_to_the_cap(attempt, seconds):
    assert backoff(attempt, 30.0, 3600.0) == timedelta(seconds=seconds)


def test_backoff_never_exceeds_the_cap_and_never_shrinks():
    waits = [backoff(n, 0.2, 1.0) for n in range(1, 20)]

    assert waits == sorted(waits)
    assert max(waits) == timedelta(seconds=1.0)
    assert waits[0] == timedelta(seconds=0.2)
