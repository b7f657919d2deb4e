"""What the dispatcher does with a claimed delivery, given what is known of it, when it looks
at it: :func:`next_step`; and how a channel's answer is recorded: :func:`after_send`.

Given facts about the delivery (each a dict of :class:`Situation` fields), when the dispatcher
looks at a moment, then exactly one step."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kamu_notifications.domain.steps import (
    Defer,
    Fail,
    FallBack,
    Policy,
    Retry,
    Send,
    Sent,
    Situation,
    Suppress,
    Wait,
    after_send,
    next_step,
)
from kamu_shared.testing.given_when_then import Decider

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
POLICY = Policy(
    retry_attempts=3,
    retry_initial=timedelta(seconds=10),
    retry_max=timedelta(minutes=5),
    wait_bound=timedelta(minutes=10),
    recheck_initial=timedelta(seconds=5),
    recheck_max=timedelta(minutes=1),
)
NAME = "display name of person k-1"


def decide(situation: Situation, at: datetime) -> list:
    return [next_step(replace(situation, now=at), POLICY)]


def evolve(situation: Situation, facts: dict) -> Situation:
    return replace(situation, **facts)


delivery = Decider(Situation(channel="email", recipient_id="p-1", now=NOW), decide, evolve)


def on(channel: str) -> dict:
    return {"channel": channel}


IN_DOUBT = {"interrupted": True, "in_doubt": True, "attempts": 2}
INTERRUPTED = {"interrupted": True, "attempts": 2}


# --- sending ------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["email", "slack", "teams", "webhook", "inapp"])
def test_a_complete_message_to_a_known_person_is_sent(channel):
    delivery.given(on(channel)).when(NOW).then(Send())


def test_a_digest_is_sent_as_a_digest():
    delivery.given({"digest": True, "complete_items": 3}).when(NOW).then(Send(digest=True))


# --- after a crash: interrupted, or in doubt -----------------------------------------------


@pytest.mark.parametrize("channel", ["email", "slack", "teams"])
def test_a_message_in_doubt_on_a_channel_without_de_duplication_is_failed_not_sent_again(
    channel,
):
    delivery.given(on(channel), IN_DOUBT).when(NOW).then(
        Fail(
            "in doubt: handed over but no answer recorded (the dispatcher stopped); "
            f"not sent again on {channel}"
        )
    )


def test_a_webhook_in_doubt_is_sent_again_its_receiver_drops_the_second_by_its_id():
    delivery.given(on("webhook"), IN_DOUBT).when(NOW).then(Send())


def test_a_deployment_whose_mail_system_de_duplicates_may_resend_email_in_doubt():
    resending = replace(POLICY, resend_in_doubt=frozenset({"webhook", "email"}))

    step = next_step(Situation("email", "p-1", NOW, **IN_DOUBT), resending)

    assert step == Send()


def test_a_claim_interrupted_before_the_hand_over_is_simply_sent():
    delivery.given(on("email"), INTERRUPTED).when(NOW).then(Send())


def test_a_message_in_doubt_is_settled_even_if_the_person_left_since():
    delivery.given(IN_DOUBT, {"left": True}).when(NOW).then(
        Fail(
            "in doubt: handed over but no answer recorded (the dispatcher stopped); "
            "not sent again on email"
        )
    )


def test_a_delivery_interrupted_more_often_than_its_attempts_fails():
    delivery.given(on("webhook"), {"interrupted": True, "attempts": 4}).when(NOW).then(
        Fail("interrupted too often")
    )


# --- the person as they are now -----------------------------------------------------------


def test_a_person_who_left_is_not_told():
    delivery.given({"left": True}).when(NOW).then(Suppress("person-left"))


def test_a_channel_turned_off_is_not_used():
    delivery.given({"wanted": False}).when(NOW).then(Suppress("preference-off"))


@pytest.mark.parametrize("channel", ["email", "webhook", "inapp"])
def test_a_recipient_pairing_has_not_told_of_yet_is_waited_for(channel):
    delivery.given(on(channel), {"recipient_known": False}).when(NOW).then(
        Wait(NOW + timedelta(seconds=5), "contact details of person p-1", NOW)
    )


def test_the_inbox_is_not_held_by_quiet_hours_or_digests():
    delivery.given(on("inapp"), {"quiet_until": NOW + timedelta(hours=8), "digest_due": NOW}).when(
        NOW
    ).then(Send())


def test_quiet_hours_defer_to_their_end():
    end = NOW + timedelta(hours=8)
    delivery.given({"quiet_until": end}).when(NOW).then(Defer(end, "quiet hours", "quiet-hours"))


def test_a_digest_in_quiet_hours_stays_a_digest():
    end = NOW + timedelta(hours=8)
    delivery.given({"quiet_until": end, "digest": True}).when(NOW).then(
        Defer(end, "quiet hours", "digest")
    )


@pytest.mark.parametrize("channel", ["slack", "teams"])
def test_without_an_identity_slack_and_teams_fall_back(channel):
    delivery.given(on(channel), {"has_identity": False}).when(NOW).then(FallBack())


def test_an_email_without_an_address_waits_for_one():
    delivery.given({"has_address": False}).when(NOW).then(
        Wait(NOW + timedelta(seconds=5), "email address of person p-1", NOW)
    )


def test_a_reminder_for_a_daily_digest_waits_for_it():
    at = NOW + timedelta(hours=3)
    delivery.given({"digest_due": at}).when(NOW).then(Defer(at, "daily digest", "digest"))


# --- a message missing what it needs -------------------------------------------------------


@pytest.mark.parametrize("channel", ["email", "slack", "teams", "webhook", "inapp"])
def test_a_message_missing_a_name_waits_rather_than_going_out_with_a_blank(channel):
    delivery.given(on(channel), {"missing": NAME}).when(NOW).then(
        Wait(NOW + timedelta(seconds=5), NAME, NOW)
    )


def test_each_wait_is_as_long_as_the_time_waited_so_far():
    since = NOW - timedelta(seconds=40)
    delivery.given({"missing": NAME, "waiting_since": since}).when(NOW).then(
        Wait(NOW + timedelta(seconds=40), NAME, since)
    )


def test_the_pause_between_checks_is_capped():
    since = NOW - timedelta(minutes=4)
    delivery.given({"missing": NAME, "waiting_since": since}).when(NOW).then(
        Wait(NOW + timedelta(minutes=1), NAME, since)
    )


def test_the_last_wait_ends_at_the_bound():
    since = NOW - timedelta(minutes=9, seconds=50)
    delivery.given({"missing": NAME, "waiting_since": since}).when(NOW).then(
        Wait(since + timedelta(minutes=10), NAME, since)
    )


def test_past_the_bound_the_message_fails_naming_what_it_lacked():
    since = NOW - timedelta(minutes=10)
    delivery.given({"missing": NAME, "waiting_since": since}).when(NOW).then(
        Fail(f"missing {NAME}")
    )


def test_a_person_who_left_while_their_message_waited_is_suppressed_not_failed():
    since = NOW - timedelta(hours=1)
    delivery.given({"missing": NAME, "waiting_since": since}, {"left": True}).when(NOW).then(
        Suppress("person-left")
    )


def test_a_digest_missing_an_item_waits_whole():
    delivery.given({"digest": True, "missing": NAME, "complete_items": 2}).when(NOW).then(
        Wait(NOW + timedelta(seconds=5), NAME, NOW)
    )


def test_past_the_bound_a_digest_goes_without_its_incomplete_items():
    since = NOW - timedelta(minutes=10)
    delivery.given(
        {"digest": True, "missing": NAME, "complete_items": 2, "waiting_since": since}
    ).when(NOW).then(Send(digest=True, drop_incomplete=f"missing {NAME}"))


def test_past_the_bound_a_digest_of_nothing_complete_fails():
    since = NOW - timedelta(minutes=10)
    delivery.given(
        {"digest": True, "missing": NAME, "complete_items": 0, "waiting_since": since}
    ).when(NOW).then(Fail(f"missing {NAME}"))


# --- a channel's answer, recorded ---------------------------------------------------------


def record(state: dict, answer: tuple) -> list:
    result, detail, retry_after = answer
    return [after_send(state["channel"], result, detail, retry_after, state["attempts"], POLICY)]


answered = Decider({"channel": "email", "attempts": 1}, record, lambda s, f: {**s, **f})


def test_an_accepted_message_is_recorded_sent():
    answered.given().when(("sent", None, None)).then(Sent())


def test_a_transient_failure_is_retried_with_backoff():
    answered.given({"attempts": 2}).when(("retry", "smtp 451", None)).then(
        Retry(timedelta(seconds=20), "smtp 451")
    )


def test_a_receivers_retry_after_is_honoured_up_to_the_maximum():
    answered.given(on("webhook")).when(("retry", "http 429", 3600.0)).then(
        Retry(timedelta(minutes=5), "http 429")
    )


def test_when_the_attempts_are_spent_it_fails():
    answered.given({"attempts": 3}).when(("retry", "smtp 451", None)).then(
        Fail("smtp 451 (gave up)")
    )


def test_a_refusal_fails_at_once():
    answered.given().when(("failed", "http 410", None)).then(Fail("http 410"))


@pytest.mark.parametrize("channel", ["email", "slack", "teams"])
def test_no_answer_after_the_hand_over_is_in_doubt_and_not_retried(channel):
    answered.given(on(channel)).when(("in-doubt", "timed out", None)).then(
        Fail(
            f"in doubt: handed over but no answer recorded (timed out); not sent again on {channel}"
        )
    )


def test_no_answer_from_a_webhook_is_retried_with_the_same_id():
    answered.given(on("webhook")).when(("in-doubt", "timed out", None)).then(
        Retry(timedelta(seconds=10), "timed out")
    )
