"""What a channel answered: accepted, try again later, never, or no answer after the message
was handed over."""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SendOutcome:
    """``sent``; ``retry`` (transient and certainly not delivered: a 5xx, a 429, a 4xx SMTP
    reply, no connection), with the receiver's ``Retry-After`` if it gave one; ``failed``
    (permanent: any other refusal); ``in-doubt`` (handed over, then no answer: the
    connection dropped or the send timed out while the receiver had the message, so it may
    have arrived). What is done with an ``in-doubt`` depends on the channel
    (:func:`kamu_notifications.domain.steps.after_send`)."""

    result: Literal["sent", "retry", "failed", "in-doubt"]
    detail: str | None = None
    retry_after: float | None = None


SENT = SendOutcome("sent")


def retry(detail: str, retry_after: float | None = None) -> SendOutcome:
    return SendOutcome("retry", detail, retry_after)


def failed(detail: str) -> SendOutcome:
    return SendOutcome("failed", detail)


def in_doubt(detail: str) -> SendOutcome:
    return SendOutcome("in-doubt", detail)
