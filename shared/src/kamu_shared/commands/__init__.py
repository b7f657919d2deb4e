"""Running commands on event-sourced aggregates: the refusals and the handling around them."""

from kamu_shared.commands.errors import NotFoundError, RuleViolated
from kamu_shared.commands.handling import (
    Aggregate,
    Append,
    CommandHandling,
    Decision,
    StateApply,
)

__all__ = [
    "Aggregate",
    "Append",
    "CommandHandling",
    "Decision",
    "NotFoundError",
    "RuleViolated",
    "StateApply",
]
