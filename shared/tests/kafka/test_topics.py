"""Topics a service creates itself: with the replication asked for, or a clear refusal (the
broker answers per topic and does not raise; dead-letter topics must not go missing silently)."""

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from kamu_shared.kafka.topics import TopicsRefused, ensure_topics


async def describe(bootstrap: str, topic: str) -> dict:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return described


async def test_a_topic_is_created_with_the_partitions_and_replicas_asked_for(
    kafka_bootstrap, topic_name
):
    topic = topic_name("created")

    await ensure_topics(kafka_bootstrap, [topic], partitions=2, replication=1)

    described = await describe(kafka_bootstrap, topic)
    assert len(described["partitions"]) == 2
    assert all(len(p["replicas"]) == 1 for p in described["partitions"])


async def test_creating_it_again_is_success(kafka_bootstrap, topic_name):
    topic = topic_name("again")
    await ensure_topics(kafka_bootstrap, [topic])

    await ensure_topics(kafka_bootstrap, [topic])


@pytest.mark.regression  # a refused dead-letter topic went unnoticed until a message was parked
async def test_more_replicas_than_brokers_is_refused_loudly(kafka_bootstrap, topic_name):
    topic = topic_name("refused")

    with pytest.raises(TopicsRefused, match=topic):
        await ensure_topics(kafka_bootstrap, [topic], replication=3)
