"""Topic names and creation. Topics are created on purpose (auto-creation is off).

Event topics keep everything (``retention.ms=-1``) so any projection can be rebuilt from them.
"""

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


def events_topic(service: str) -> str:
    """``kamu.<service>.events``: every event of one service, keyed by aggregate id."""
    return f"kamu.{service}.events"


DEFAULT_NAMESPACE = "kamu"


def in_namespace(name: str, namespace: str) -> str:
    """A topic or consumer group name as used in ``namespace``.

    Names are written for the default namespace (``kamu.pairing.events``); another namespace
    replaces that first part (``demo.pairing.events``) or, for names without it (consumer
    groups), comes in front (``demo.meetings.pairing-events``). Several environments, or test
    runs, then share one Kafka cluster without reading each other's events.
    """
    if namespace == DEFAULT_NAMESPACE:
        return name
    prefix = f"{DEFAULT_NAMESPACE}."
    return f"{namespace}.{name.removeprefix(prefix)}"


def dead_letter_topic(topic: str, group: str) -> str:
    """``<topic>.dlq.<group>``: what one consumer group parked from one topic."""
    return f"{topic}.dlq.{group}"


async def ensure_topics(
    bootstrap: str, topics: list[str], partitions: int = 3, replication: int = 1
) -> None:
    """Create the topics that do not exist yet, with unlimited retention."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="kamu-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        new = [
            NewTopic(t, partitions, replication, topic_configs={"retention.ms": "-1"})
            for t in missing
        ]
        # Another replica may create it in the meantime: that is success too.
        with contextlib.suppress(TopicAlreadyExistsError):
            response = await admin.create_topics(new)
            refused = [
                f"{topic}: {message or code}"
                for topic, code, *rest in response.topic_errors
                for message in [rest[0] if rest else None]
                if code not in (0, TopicAlreadyExistsError.errno)
            ]
            if refused:  # the broker answers per topic; it does not raise
                raise TopicsRefused(f"Kafka refused to create {'; '.join(refused)}")
    finally:
        await admin.close()


class TopicsRefused(RuntimeError):
    """The cluster would not create a topic (e.g. more replicas than it has brokers)."""
