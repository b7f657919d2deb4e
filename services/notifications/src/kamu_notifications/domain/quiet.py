"""Quiet hours and digest times: when a message may go out, in the person's own time zone.

Quiet hours defer, they never drop: a message due inside them goes out when they end. Local
times are resolved on the day they fall, so a DST change moves them with the wall clock.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kamu_notifications.domain.events import QuietHours


def _at(day: datetime, clock: time, zone: ZoneInfo) -> datetime:
    """``clock`` on ``day``'s local date, as an aware UTC instant (a skipped time moves on)."""
    local = datetime.combine(day.date(), clock, tzinfo=zone)
    return local.astimezone(UTC)


def quiet_until(now: datetime, zone: ZoneInfo, quiet: QuietHours | None) -> datetime | None:
    """When the quiet hours around ``now`` end, or None if ``now`` is not in quiet hours."""
    if quiet is None or quiet.start == quiet.end:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:  # within one day, e.g. 12:00-13:00
        inside = quiet.start <= clock < quiet.end
        end_day = local
    else:  # across midnight, e.g. 21:00-07:00
        inside = clock >= quiet.start or clock < quiet.end
        end_day = local + timedelta(days=1) if clock >= quiet.start else local
    if not inside:
        return None
    end = _at(end_day, quiet.end, zone)
    if end <= now:  # the end falls in an hour a DST change repeats: its second occurrence
        local_end = datetime.combine(end_day.date(), quiet.end, tzinfo=zone).replace(fold=1)
        end = local_end.astimezone(UTC)
    return end if end > now else None


def next_digest(now: datetime, zone: ZoneInfo, at: time) -> datetime:
    """The next daily digest time strictly after ``now``."""
    local = now.astimezone(zone)
    today = _at(local, at, zone)
    if today > now:
        return today
    return _at(local + timedelta(days=1), at, zone)


def digest_time(
    now: datetime, zone: ZoneInfo, at: time, kind: str, starts_at: str | None
) -> datetime | None:
    """When a digestible message goes out for someone with a daily digest, or None if it
    should go now: a meeting reminder never waits for a digest after the meeting starts."""
    due = next_digest(now, zone, at)
    if kind == "meeting-reminder" and starts_at and due >= datetime.fromisoformat(starts_at):
        return None
    return due


def backoff(attempt: int, initial: float, maximum: float) -> timedelta:
    """Wait before attempt ``attempt + 1``: doubling from ``initial``, capped at ``maximum``."""
    return timedelta(seconds=min(maximum, initial * 2 ** max(0, attempt - 1)))
