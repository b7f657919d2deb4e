"""What a channel answered: accepted, try again later, or never."""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SendOutcome:
    """``sent``; ``retry`` (transient: a 5xx, a 429, a timeout, a 4xx SMTP reply), with the
    receiver's ``Retry-After`` if it gave one; ``failed`` (permanent: any other refusal)."""

    result: Literal["sent", "retry", "failed"]
    detail: str | None = None
    retry_after: float | None = None


SENT = SendOutcome("sent")


def retry(detail: str, retry_after: float | None = None) -> SendOutcome:
    return SendOutcome("retry", detail, retry_after)


def failed(detail: str) -> SendOutcome:
    return SendOutcome("failed", detail)
