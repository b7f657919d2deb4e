"""What is already on the topic past the relay's checkpoint, read back when a relay starts leading.

A relay that stops after Kafka acknowledged a batch but before it saved its checkpoint (kill -9,
PostgreSQL gone, leadership lost) leaves events on the topic that its checkpoint does not cover.
Each record the relay sends carries its event's commit position in the ``kamu_commit`` header,
so the next leader reads every partition backwards from its end until it reaches a record at or
before the checkpoint, and skips exactly the events it found: each event id goes on the topic
once. The read is exact (by id, not "everything below the highest position"), so an event whose
send failed while a later one of the same partition went through is still sent.

Records without the header (sent before it existed) count as covered by the checkpoint: the
read stops there, and anything they would have shown is at worst sent again, as before.
"""

import uuid
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from kamu_shared.store.records import Checkpoint, RecordedEvent

COMMIT_HEADER = "kamu_commit"
"""``<transaction id>.<position>`` of the event in its service's store: commit order, which is
the order the relay sends in. Not part of the CloudEvents envelope; consumers ignore it."""

FIRST_STEP = 16
"""Records read back first per partition: normally the tail crosses the checkpoint at once."""
MAX_STEP = 4096


def commit_header(event: RecordedEvent) -> tuple[str, bytes]:
    """The header that lets a later leader tell whether ``event`` is on the topic already."""
    return COMMIT_HEADER, f"{event.transaction_id}.{event.position}".encode()


def commit_of(headers: Sequence[tuple[str, bytes | None]]) -> Checkpoint | None:
    """The commit position a record carries, or None (no header, or not one of ours)."""
    for name, raw in headers:
        if name != COMMIT_HEADER or raw is None:
            continue
        transaction, _, position = bytes(raw).decode(errors="replace").partition(".")
        if transaction.isdigit() and position.isdigit():
            return Checkpoint(int(transaction), int(position))
    return None


def tail_reader(bootstrap: str, client_id: str) -> AIOKafkaConsumer:
    """A consumer without a group: it only seeks and reads, and commits nothing."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def published_after(
    reader: AIOKafkaConsumer,
    topic: str,
    partitions: Iterable[int],
    checkpoint: Checkpoint,
    at_most: int,
) -> set[uuid.UUID]:
    """Ids of the events on ``topic`` whose commit position is after ``checkpoint``, looking at
    no more than the last ``at_most`` records of each partition.

    ``reader`` is started; it is assigned each partition in turn (``partitions``, as the
    producer's ``partitions_for`` gives them). ``at_most``: how many events the store holds past
    the checkpoint (up to a batch): only one relay writes the topic, so what its predecessor
    sent past the checkpoint is at the very end of each partition, and there cannot be more of
    it than that. (Where several stores share a topic, as in tests, their records interleave and
    the bound may hide one of ours: it is then sent again, at least once as before, and the read
    never scans a whole topic.) Cost: about ``FIRST_STEP`` records per partition when the
    previous leader stopped cleanly, one batch more when it did not.
    """
    found: set[uuid.UUID] = set()
    tps = sorted(TopicPartition(topic, p) for p in partitions)
    if not tps:
        return found
    begins = await reader.beginning_offsets(tps)
    ends = await reader.end_offsets(tps)
    for tp in tps:
        begin = max(begins[tp], ends[tp] - at_most)
        found |= await _partition_after(reader, tp, begin, ends[tp], checkpoint)
    return found


async def _partition_after(
    reader: AIOKafkaConsumer, tp: TopicPartition, begin: int, end: int, checkpoint: Checkpoint
) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    reader.assign([tp])
    high, step = end, FIRST_STEP
    while high > begin:
        low = max(begin, high - step)
        reader.seek(tp, low)
        crossed = False
        while await reader.position(tp) < high:
            records = (await reader.getmany(tp, timeout_ms=1000)).get(tp, [])
            for record in records:
                if record.offset >= high:
                    break
                commit = commit_of(record.headers)
                if commit is None or commit <= checkpoint:
                    crossed = True
                    continue
                event_id = _event_id(record.headers)
                if event_id is not None:
                    found.add(event_id)
        if crossed:
            break
        high, step = low, min(step * 2, MAX_STEP)
    return found


def _event_id(headers: Sequence[tuple[str, bytes | None]]) -> uuid.UUID | None:
    for name, raw in headers:
        if name == "ce_id" and raw is not None:
            try:
                return uuid.UUID(bytes(raw).decode())
            except ValueError:
                return None
    return None
