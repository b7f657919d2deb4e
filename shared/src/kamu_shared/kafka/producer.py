"""Producers safe for events: idempotent, acks from all in-sync replicas, ordered per partition."""

from aiokafka import AIOKafkaProducer


def event_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """aiokafka's defaults (acks=1, no idempotence) can lose or reorder; these cannot."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=30000,
    )
