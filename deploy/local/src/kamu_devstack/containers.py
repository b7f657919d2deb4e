"""The testcontainers provider: used where a Docker engine answers (a developer's laptop).

PostgreSQL is the official image through ``PostgresContainer``; Kafka is the official
``apache/kafka`` image configured by environment variables (testcontainers' ``KafkaContainer``
expects Confluent's images). The host port is chosen first so the broker can advertise it.
"""

import contextlib
from dataclasses import dataclass, field
from typing import Any

from kamu_devstack.ports import free_port

KAFKA_IMAGE = "apache/kafka:4.1.1"
POSTGRES_IMAGE = "postgres:16-alpine"


def docker_available() -> bool:
    """Whether a Docker engine answers a ping (fails within a fraction of a second if not)."""
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


@dataclass
class ContainerSet:
    """Containers started for one run; stopped together."""

    started: list[Any] = field(default_factory=list)

    def kafka(self) -> str:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        port = free_port()
        container = (
            DockerContainer(KAFKA_IMAGE)
            .with_bind_ports(9092, port)
            .with_env("KAFKA_NODE_ID", "1")
            .with_env("KAFKA_PROCESS_ROLES", "broker,controller")
            .with_env("KAFKA_LISTENERS", "PLAINTEXT://:9092,CONTROLLER://:9093")
            .with_env("KAFKA_ADVERTISED_LISTENERS", f"PLAINTEXT://127.0.0.1:{port}")
            .with_env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
            .with_env(
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
            )
            .with_env("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093")
            .with_env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
            .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
            .with_env("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "1")
            .with_env("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1")
            .with_env("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
            .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
        )
        container.start()
        self.started.append(container)
        wait_for_logs(container, "Kafka Server started", timeout=120)
        return f"127.0.0.1:{port}"

    def postgres(self) -> str:
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer(POSTGRES_IMAGE, username="postgres", password="kamu")  # noqa: S106 - throwaway test container
        container.start()
        self.started.append(container)
        host = container.get_container_host_ip()
        port = container.get_exposed_port(5432)
        return f"postgresql://postgres:kamu@{host}:{port}/postgres"

    def ids(self) -> list[str]:
        return [c.get_wrapped_container().id for c in self.started]

    def stop(self) -> None:
        while self.started:
            self.started.pop().stop()


def remove_containers(ids: list[str]) -> None:
    """Stop containers recorded by a detached ``up`` (the process that started them is gone)."""
    if not ids:
        return
    import docker

    client = docker.from_env(timeout=10)
    for container_id in ids:
        with contextlib.suppress(docker.errors.NotFound):
            client.containers.get(container_id).remove(force=True, v=True)
