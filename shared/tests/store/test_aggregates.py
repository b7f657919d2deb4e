"""Aggregates: pure decide/evolve tested given-when-then, then rebuilt from a real stream."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from kamu_shared.events import DomainEvent, EventRegistry
from kamu_shared.store.aggregates import load, new_event
from kamu_shared.store.records import NO_STREAM, NewEvent, StreamAppend
from kamu_shared.testing.given_when_then import Decider

registry = EventRegistry("example")


@registry.register
class OpenedV1(DomainEvent, name="box-opened", version=1):
    box_id: str


@registry.register
class Opened(DomainEvent, name="box-opened", version=2):
    box_id: str
    capacity: int


@registry.upcaster("box-opened", from_version=1)
def _v1_to_v2(data: dict) -> dict:
    return {**data, "capacity": 3}  # every v1 box had the then-fixed capacity of three


@registry.register
class ItemAdded(DomainEvent, name="item-added", version=1):
    box_id: str
    item: str


@dataclass(frozen=True)
class Box:
    capacity: int = 0
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddItem:
    box_id: str
    item: str


class BoxFull(Exception):
    pass


def evolve(state: Box, event: DomainEvent) -> Box:
    if isinstance(event, Opened):
        return Box(capacity=event.capacity)
    if isinstance(event, ItemAdded):
        return replace(state, items=(*state.items, event.item))
    return state


def decide(state: Box, command: AddItem) -> list[DomainEvent]:
    if len(state.items) >= state.capacity:
        raise BoxFull(f"box {command.box_id} holds {state.capacity}")
    if command.item in state.items:
        return []  # already there: adding again changes nothing
    return [ItemAdded(box_id=command.box_id, item=command.item)]


box = Decider(Box(), decide, evolve)


def test_given_an_open_box_when_adding_then_the_item_is_added():
    box.given(Opened(box_id="b", capacity=2)).when(AddItem("b", "pen")).then(
        ItemAdded(box_id="b", item="pen")
    )


def test_given_a_full_box_when_adding_then_it_is_refused():
    box.given(Opened(box_id="b", capacity=1), ItemAdded(box_id="b", item="pen")).when(
        AddItem("b", "cup")
    ).then_raises(BoxFull, match="holds 1")


def test_given_the_item_is_there_when_adding_again_then_nothing_happens():
    box.given(Opened(box_id="b", capacity=2), ItemAdded(box_id="b", item="pen")).when(
        AddItem("b", "pen")
    ).then()


def test_every_registered_event_can_be_upcast_to_its_current_version():
    registry.check()


async def test_an_aggregate_is_rebuilt_from_its_stream_with_old_versions_upcast(store):
    now = datetime.now(UTC)
    v1 = NewEvent(registry.ce_type(OpenedV1), {"box_id": "b"}, now)  # stored years ago
    added = new_event(registry, ItemAdded(box_id="b", item="pen"), subject="b", occurred_at=now)
    await store.append([StreamAppend("b", "box", NO_STREAM, [v1, added])])

    loaded = await load(store, registry, "b", Box(), evolve)

    assert loaded.version == 2
    assert loaded.state == Box(capacity=3, items=("pen",))
    stored = await store.read_stream("b")
    assert stored[1].metadata["dataschema"] == "urn:kamu:schema:example:item-added:v1"
