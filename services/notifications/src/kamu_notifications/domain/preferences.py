"""A person's notification preferences: an aggregate of one event type, replaced whole.

Setting the same preferences again records nothing (a PUT repeated is not news).
"""

from dataclasses import dataclass

from kamu_notifications.domain.events import PreferencesSet
from kamu_shared.events import DomainEvent


@dataclass(frozen=True)
class Preferences:
    current: PreferencesSet | None = None


def decide_set(state: Preferences, command: PreferencesSet) -> list[DomainEvent]:
    """Record the new preferences unless they are the ones in force."""
    if state.current == command:
        return []
    return [command]


def evolve(state: Preferences, event: DomainEvent) -> Preferences:
    if isinstance(event, PreferencesSet):
        return Preferences(current=event)
    return state
