"""Why the goals domain refused a command (the shared refusals)."""

from kamu_shared.commands.errors import NotFoundError, RuleViolated

__all__ = ["NotFoundError", "RuleViolated"]
