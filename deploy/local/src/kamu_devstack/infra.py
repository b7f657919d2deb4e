"""One interface to Kafka and PostgreSQL for the CLI, the tests and the benchmarks.

Three providers, chosen per server and printed: a server named by an environment variable
(``KAMU_KAFKA_BOOTSTRAP``, ``KAMU_DATABASE_URL``) is used as it is; otherwise, where a Docker engine
answers, testcontainers; otherwise real local processes started here. ``KAMU_INFRA=local`` or
``KAMU_INFRA=docker`` forces the choice between the last two.
"""

import asyncio
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kamu_devstack.containers import ContainerSet, docker_available, remove_containers
from kamu_devstack.errors import InfraError
from kamu_devstack.kafka import KafkaBroker, kafka_version
from kamu_devstack.postgres import PostgresServer, find_bin_dir, server_version
from kamu_devstack.probes import kafka_round_trip, wait_for_postgres

ENV_KAFKA = "KAMU_KAFKA_BOOTSTRAP"
ENV_DATABASE = "KAMU_DATABASE_URL"


@dataclass
class Infrastructure:
    """Where Kafka and PostgreSQL are, who provided them and how to stop what we started."""

    state_dir: Path
    kafka_bootstrap: str = ""
    postgres_url: str = ""
    kafka_provider: str = ""
    postgres_provider: str = ""
    kafka: KafkaBroker | None = None
    postgres: PostgresServer | None = None
    container_ids: list[str] = field(default_factory=list)
    _containers: ContainerSet | None = None

    def describe(self) -> list[str]:
        """Human-readable lines: what was chosen and where it listens."""
        lines = [f"kafka     {self.kafka_bootstrap:<24} {self.kafka_provider}"]
        if self.kafka:
            lines[-1] += f" (log: {self.kafka.log_file})"
        lines.append(f"postgres  {self.postgres_url:<24} {self.postgres_provider}")
        if self.postgres:
            lines[-1] += f" (log: {self.postgres.log_file})"
        return lines

    def env(self) -> dict[str, str]:
        return {ENV_KAFKA: self.kafka_bootstrap, ENV_DATABASE: self.postgres_url}

    def stop(self) -> None:
        """Stop whatever this run started; servers given by the environment are left alone."""
        errors: list[str] = []
        for stop in self._stoppers():
            try:
                stop()
            except Exception as exc:
                errors.append(repr(exc))
        if errors:
            raise InfraError("stopping the infrastructure: " + "; ".join(errors))

    def _stoppers(self) -> list[Callable[[], None]]:
        stoppers: list[Callable[[], None]] = []
        if self.kafka:
            stoppers.append(self.kafka.stop)
        if self.postgres:
            stoppers.append(self.postgres.stop)
        if self._containers:
            stoppers.append(self._containers.stop)
        elif self.container_ids:
            stoppers.append(lambda: remove_containers(self.container_ids))
        return stoppers

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        data["state_dir"] = str(self.state_dir)
        for key in ("kafka", "postgres"):
            if data[key]:
                data[key]["home"] = str(data[key]["home"])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Infrastructure":
        data = dict(data)
        if data.get("kafka"):
            data["kafka"] = KafkaBroker(**{**data["kafka"], "home": Path(data["kafka"]["home"])})
        if data.get("postgres"):
            data["postgres"] = PostgresServer(
                **{**data["postgres"], "home": Path(data["postgres"]["home"])}
            )
        return cls(**{**data, "state_dir": Path(data["state_dir"])})


def _choose_container_provider() -> bool:
    mode = os.environ.get("KAMU_INFRA", "auto")
    if mode not in {"auto", "local", "docker"}:
        raise InfraError(f"KAMU_INFRA must be auto, local or docker, not {mode!r}")
    if mode == "docker" and not docker_available():
        raise InfraError("KAMU_INFRA=docker but no Docker engine answers")
    return mode == "docker" or (mode == "auto" and docker_available())


def start_infrastructure(state_dir: Path, previous: Infrastructure | None = None) -> Infrastructure:
    """Provide Kafka and PostgreSQL and prove both usable; ``previous`` keeps ports and data."""
    state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(state_dir, 0o755)  # noqa: S103 - PostgreSQL's own user must traverse it when we are root
    infra = Infrastructure(state_dir=state_dir)
    use_docker = not (os.environ.get(ENV_KAFKA) and os.environ.get(ENV_DATABASE)) and (
        _choose_container_provider()
    )
    tasks: list[Callable[[], None]] = []

    if bootstrap := os.environ.get(ENV_KAFKA):
        infra.kafka_bootstrap, infra.kafka_provider = bootstrap, f"given by {ENV_KAFKA}"
    elif use_docker:
        infra._containers = infra._containers or ContainerSet()
        infra.kafka_provider = "testcontainers (apache/kafka)"
        tasks.append(lambda: setattr(infra, "kafka_bootstrap", infra._containers.kafka()))  # type: ignore[union-attr]
    else:
        infra.kafka = (previous.kafka if previous and previous.kafka else None) or KafkaBroker(
            state_dir / "kafka"
        )
        infra.kafka_provider = f"local Apache Kafka {kafka_version()} (KRaft, pid {{pid}})"
        tasks.append(infra.kafka.start)

    if url := os.environ.get(ENV_DATABASE):
        infra.postgres_url, infra.postgres_provider = url, f"given by {ENV_DATABASE}"
    elif use_docker:
        infra._containers = infra._containers or ContainerSet()
        infra.postgres_provider = "testcontainers (postgres)"
        tasks.append(lambda: setattr(infra, "postgres_url", infra._containers.postgres()))  # type: ignore[union-attr]
    else:
        infra.postgres = (
            previous.postgres if previous and previous.postgres else None
        ) or PostgresServer(state_dir / "postgres")
        infra.postgres_provider = f"local {server_version(find_bin_dir())}"
        tasks.append(infra.postgres.start)

    try:
        _run_all(tasks)
        if infra.kafka:
            infra.kafka_bootstrap = infra.kafka.bootstrap
            infra.kafka_provider = infra.kafka_provider.format(pid=infra.kafka.pid)
        if infra.postgres:
            infra.postgres_url = infra.postgres.admin_url
        asyncio.run(_prove_usable(infra))
    except BaseException:
        infra.stop()
        raise
    if infra._containers:
        infra.container_ids = infra._containers.ids()
    return infra


def _run_all(tasks: list[Callable[[], None]]) -> None:
    """Start the servers side by side: the JVM's start-up dominates, PostgreSQL fits inside it."""
    with ThreadPoolExecutor(max_workers=max(1, len(tasks))) as pool:
        for future in [pool.submit(task) for task in tasks]:
            future.result()


async def _prove_usable(infra: Infrastructure) -> None:
    await asyncio.gather(
        kafka_round_trip(infra.kafka_bootstrap), wait_for_postgres(infra.postgres_url)
    )


def save(infra: Infrastructure, path: Path) -> None:
    path.write_text(json.dumps(infra.to_json(), indent=2))


def load(path: Path) -> Infrastructure | None:
    if not path.exists():
        return None
    return Infrastructure.from_json(json.loads(path.read_text()))
