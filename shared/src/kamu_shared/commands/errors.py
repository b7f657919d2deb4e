"""Why a domain refused a command: each rule has a slug the API turns into a problem type.

Pure (no I/O, no web): a service's domain raises these from its ``decide`` functions.
"""


class RuleViolated(Exception):
    """A business rule refuses the command (409 with ``/problems/<slug>``)."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail


class NotFoundError(Exception):
    """The aggregate the command needs does not exist (404)."""
