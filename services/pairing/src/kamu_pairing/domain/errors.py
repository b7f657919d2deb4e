"""Why the domain refused a command (the shared refusals, named where the domain imports them)."""

from kamu_shared.commands.errors import NotFoundError, RuleViolated

__all__ = ["NotFoundError", "RuleViolated"]
