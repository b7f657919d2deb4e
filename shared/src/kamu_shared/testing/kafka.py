"""Reading a whole topic back in tests, partition by partition, up to its current end."""

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from kamu_shared.events.envelope import Envelope


async def read_topic(bootstrap: str, topic: str, expect_at_least: int = 0) -> list[Envelope]:
    """Every envelope on ``topic`` in partition order; waits until ``expect_at_least`` arrived."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while True:
                partitions = await _partitions(bootstrap, topic)
                consumer.assign(partitions)
                await consumer.seek_to_beginning(*partitions)
                end = await consumer.end_offsets(partitions)
                if sum(end.values()) >= expect_at_least:
                    break
                await asyncio.sleep(0.2)
            records: list[ConsumerRecord[bytes, bytes]] = []
            for tp in partitions:
                while await consumer.position(tp) < end[tp]:
                    batch = await consumer.getmany(tp, timeout_ms=1000)
                    records.extend(r for r in batch.get(tp, []) if r.offset < end[tp])
    finally:
        await consumer.stop()
    return [Envelope.from_kafka(r.key, r.value, r.headers) for r in records]


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        while True:
            described = await admin.describe_topics([topic])
            partitions = described[0].get("partitions") if described else None
            if partitions:
                return sorted(TopicPartition(topic, p["partition"]) for p in partitions)
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
