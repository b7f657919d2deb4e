"""Why an append was refused."""


class ConcurrencyError(Exception):
    """A stream moved on since the caller read it: the API answers 409 (or 412 with If-Match)."""

    def __init__(self, stream_id: str, expected: int | None, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not the expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class AppendOrderError(RuntimeError):
    """Events were appended after another write in the same transaction.

    The relay's gap-safe read needs a stream's transactions to take their ids in commit order,
    which holds only if the stream locks are taken before the transaction's first write.
    """
