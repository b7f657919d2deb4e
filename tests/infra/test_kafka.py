"""The broker the tests get is a real Apache Kafka 4.x that serves consumer groups."""

import asyncio

from aiokafka import AIOKafkaClient, AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.protocol.admin import ApiVersionRequest

FETCH, OFFSET_COMMIT, CONSUMER_GROUP_HEARTBEAT, SHARE_GROUP_HEARTBEAT = 1, 8, 68, 76


async def api_versions(bootstrap: str) -> dict[int, tuple[int, int]]:
    """The broker's answer to ApiVersions: api key -> (min version, max version)."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        node_id = next(iter(client.cluster.brokers())).nodeId
        response = await client.send(node_id, ApiVersionRequest())
    finally:
        await client.close()
    assert response.error_code == 0
    return {key: (lo, hi) for key, lo, hi in response.api_versions}


async def test_broker_answers_with_apache_kafka_4_api_versions(kafka_bootstrap):
    versions = await api_versions(kafka_bootstrap)

    # KIP-848's ConsumerGroupHeartbeat and KIP-932's ShareGroupHeartbeat ship with Kafka 4;
    # KIP-896 removed Fetch v0-v3 and OffsetCommit v0-v1 in 4.0. Together they pin a 4.x
    # broker, not a stand-in that speaks an older or partial protocol.
    assert CONSUMER_GROUP_HEARTBEAT in versions
    assert SHARE_GROUP_HEARTBEAT in versions
    assert versions[FETCH][0] >= 4
    assert versions[OFFSET_COMMIT][0] >= 2


async def test_message_produced_is_consumed_by_a_consumer_group(kafka_bootstrap, topic_name):
    topic, group = topic_name("groups"), topic_name("group")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    sent = {f"key-{i}".encode(): f"value-{i}".encode() for i in range(20)}
    for key, value in sent.items():
        await producer.send_and_wait(topic, value, key=key)
    await producer.stop()

    received = await consume(kafka_bootstrap, topic, group, expected=len(sent))
    assert received == sent

    # Offsets were committed for the group: a new member of it finds nothing left to read.
    assert await consume(kafka_bootstrap, topic, group, expected=0) == {}


async def consume(bootstrap: str, topic: str, group: str, expected: int) -> dict[bytes, bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: dict[bytes, bytes] = {}
    try:
        async with asyncio.timeout(30):
            while len(received) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    received.update({r.key: r.value for r in records})
        if expected == 0:
            batch = await consumer.getmany(timeout_ms=2000)
            received.update({r.key: r.value for rs in batch.values() for r in rs})
        await consumer.commit()
    finally:
        await consumer.stop()
    return received
