"""Given-when-then for pure deciders: ``given(past events).when(command).then(new events)``.

Works with any ``decide(state, command) -> list[event]`` and ``evolve(state, event) -> state``;
``then_raises`` checks a rule that refuses the command.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pytest

S = TypeVar("S")


@dataclass(frozen=True)
class Decider(Generic[S]):
    initial: S
    decide: Callable[[S, Any], Sequence[Any]]
    evolve: Callable[[S, Any], S]

    def given(self, *events: Any) -> "Scenario[S]":
        state = self.initial
        for event in events:
            state = self.evolve(state, event)
        return Scenario(self, state)


@dataclass(frozen=True)
class Scenario(Generic[S]):
    decider: Decider[S]
    state: S

    def when(self, command: Any) -> "Outcome[S]":
        return Outcome(self.decider, self.state, command)


@dataclass(frozen=True)
class Outcome(Generic[S]):
    decider: Decider[S]
    state: S
    command: Any

    def then(self, *expected: Any) -> None:
        assert list(self.decider.decide(self.state, self.command)) == list(expected)

    def then_raises(self, error: type[Exception], match: str | None = None) -> None:
        with pytest.raises(error, match=match):
            self.decider.decide(self.state, self.command)
