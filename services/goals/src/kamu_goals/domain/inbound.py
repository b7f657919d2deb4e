"""Other services' events as the goals service reads them: minimal tolerant models.

Registered in registries named for their producers, so wire types match without importing
their code; each aggregate's events come in its own stream, in order.
"""

from pydantic import AwareDatetime, Field

from kamu_shared.events import EventRegistry, TolerantEvent

pairing_events = EventRegistry("pairing")
meeting_events = EventRegistry("meetings")


class _Pairing(TolerantEvent):
    pairing_id: str
    colleague_id: str
    kamu_id: str


@pairing_events.register
class PairingCreated(_Pairing, name="pairing-created", version=1):
    """The Kamu's access to what the colleague shares starts here."""


@pairing_events.register
class PairingEnded(_Pairing, name="pairing-ended", version=1):
    """The Kamu's access ends; what was shared with them becomes private again."""


@meeting_events.register
class MeetingHeld(TolerantEvent, name="meeting-held", version=1):
    """Goals reviewed in a held meeting are linked to it."""

    meeting_id: str
    colleague_id: str
    kamu_id: str
    held_at: AwareDatetime
    goal_ids: list[str] = Field(default_factory=list)
