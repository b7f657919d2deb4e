"""What the dispatcher does with a claimed delivery: a pure decision from what is known now.

:func:`next_step` takes a :class:`Situation` (the claim, the person and their preferences as
they are now, whether the message could be composed in full) and answers one :class:`Step`:
fail, suppress, defer, wait for data, fall back to email, or send. :func:`after_send` takes
what the channel answered and answers how it is recorded: sent, retried, or failed.

The dispatcher gathers the facts and carries the step out; nothing here reads a clock, a
database or a channel, so every rule is tested given-when-then (tests/domain/test_steps.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from kamu_notifications.domain.events import Channel
from kamu_notifications.domain.quiet import backoff


@dataclass(frozen=True)
class Policy:
    """The time policies the decisions follow (settings, so tests run them in seconds)."""

    retry_attempts: int = 6
    retry_initial: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(hours=1)
    wait_bound: timedelta = timedelta(hours=1)
    recheck_initial: timedelta = timedelta(seconds=5)
    recheck_max: timedelta = timedelta(minutes=5)
    resend_in_doubt: frozenset[Channel] = frozenset({"webhook"})


@dataclass(frozen=True)
class Situation:
    """A claimed delivery (or a digest led by it) and what is known of it now."""

    channel: Channel
    recipient_id: str
    now: datetime
    attempts: int = 1
    # Claimed again after the claim of a dispatcher that stopped ran out.
    interrupted: bool = False
    # ... and that dispatcher had handed the message over (or begun to): it may have arrived.
    in_doubt: bool = False
    left: bool = False  # the person left the organisation
    wanted: bool = True  # the channel is on (and, for webhooks, there is an address)
    recipient_known: bool = True  # pairing has told us of the person
    has_identity: bool = True  # a Slack or Teams user id, for those channels
    has_address: bool = True  # an email address, for email
    quiet_until: datetime | None = None  # inside the person's quiet hours until then
    digest_due: datetime | None = None  # waits for the person's daily digest until then
    digest: bool = False  # this send is a digest (its items gathered)
    # What the message (a digest: its first incomplete item) needs and is not known yet.
    missing: str | None = None
    complete_items: int = 1  # a digest's items that could be composed in full
    waiting_since: datetime | None = None  # first found incomplete


@dataclass(frozen=True)
class Send:
    """Hand it over (the inbox: put it there). A digest past its wait sends the items that
    are complete and fails the others with ``drop_incomplete`` as the reason."""

    digest: bool = False
    drop_incomplete: str | None = None


@dataclass(frozen=True)
class Suppress:
    reason: Literal["preference-off", "person-left"]


@dataclass(frozen=True)
class Defer:
    """Held back by the person's wishes, not an attempt: quiet hours, or the daily digest."""

    until: datetime
    why: str
    by: Literal["quiet-hours", "digest"]


@dataclass(frozen=True)
class Wait:
    """Something the message needs is not known yet: pending until ``until`` (or until the
    person's event arrives), not an attempt; ``since`` keeps the total wait bounded."""

    until: datetime
    missing: str
    since: datetime


@dataclass(frozen=True)
class FallBack:
    """No Slack or Teams identity: by email instead (if the person has email on)."""


@dataclass(frozen=True)
class Fail:
    reason: str


@dataclass(frozen=True)
class Retry:
    after: timedelta
    detail: str


@dataclass(frozen=True)
class Sent:
    """Recorded as sent."""


Step = Send | Suppress | Defer | Wait | FallBack | Fail
Recorded = Sent | Retry | Fail

IN_DOUBT = "in doubt: handed over but no answer recorded ({why}); not sent again on {channel}"


def next_step(s: Situation, policy: Policy) -> Step:
    """The one thing to do with a claimed delivery now, in this order: settle what is in
    doubt, stop what was interrupted too often, suppress, wait for the person, put in the
    inbox, defer for quiet hours, fall back, wait for an address, defer for the digest, wait
    for what the message needs, send."""
    if s.in_doubt and s.channel not in policy.resend_in_doubt:
        # The message may have arrived, and these receivers do not drop a second copy.
        return Fail(IN_DOUBT.format(why="the dispatcher stopped", channel=s.channel))
    if s.interrupted and s.attempts > policy.retry_attempts:
        return Fail("interrupted too often")  # dispatchers died on it again and again
    if s.left:
        return Suppress("person-left")
    if not s.wanted:
        return Suppress("preference-off")
    if not s.recipient_known:
        return _wait(s, policy, f"contact details of person {s.recipient_id}")
    if s.channel == "inapp":  # a row of ours: never held by quiet hours or digests
        return _wait(s, policy, s.missing) if s.missing else Send()
    if s.quiet_until is not None:
        # A digest stays a digest (its items and id), due when the quiet hours end.
        return Defer(s.quiet_until, "quiet hours", "digest" if s.digest else "quiet-hours")
    if s.channel in ("slack", "teams") and not s.has_identity:
        return FallBack()
    if s.channel == "email" and not s.has_address:
        return _wait(s, policy, f"email address of person {s.recipient_id}")
    if s.digest_due is not None and not s.digest:
        return Defer(s.digest_due, "daily digest", "digest")
    if s.missing:
        step = _wait(s, policy, s.missing)
        if isinstance(step, Fail) and s.digest and s.complete_items > 0:
            return Send(digest=True, drop_incomplete=step.reason)
        return step
    return Send(digest=s.digest)


def _wait(s: Situation, policy: Policy, missing: str) -> Wait | Fail:
    """Wait for data, re-checking after as long as it has waited so far (from
    ``recheck_initial`` up to ``recheck_max``), at most ``wait_bound`` in all; then fail."""
    since = s.waiting_since or s.now
    deadline = since + policy.wait_bound
    if s.now >= deadline:
        return Fail(f"missing {missing}")
    pause = min(max(s.now - since, policy.recheck_initial), policy.recheck_max)
    return Wait(until=min(s.now + pause, deadline), missing=missing, since=since)


def after_send(
    channel: Channel,
    result: Literal["sent", "retry", "failed", "in-doubt"],
    detail: str | None,
    retry_after: float | None,
    attempts: int,
    policy: Policy,
) -> Recorded:
    """How a channel's answer is recorded. ``in-doubt``: the message was handed over but no
    answer came (a lost connection, a timeout): sent again with the same id where receivers
    de-duplicate by it (like a transient failure), else failed and never sent again."""
    why = detail or result
    if result == "sent":
        return Sent()
    if result == "failed":
        return Fail(why)
    if result == "in-doubt" and channel not in policy.resend_in_doubt:
        return Fail(IN_DOUBT.format(why=why, channel=channel))
    if attempts >= policy.retry_attempts:
        return Fail(f"{why} (gave up)")
    return Retry(delay(attempts, policy, retry_after), why)


def delay(attempt: int, policy: Policy, retry_after: float | None) -> timedelta:
    """The wait before the next attempt: exponential backoff, or the receiver's Retry-After
    when it asks for longer (capped by ``retry_max``)."""
    maximum = policy.retry_max.total_seconds()
    wait = backoff(attempt, policy.retry_initial.total_seconds(), maximum)
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=min(retry_after, maximum)))
    return wait
