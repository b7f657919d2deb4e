"""The whole platform as separate processes on servers given to it: each service's API (with its
relay, consumers, timers and workers) and the catcher, for the end-to-end tests and the demo.

``./kamu up`` runs the same processes on its own servers; tests run them on the session's
servers with databases and a topic namespace of their own, so they share nothing.
"""

import asyncio
import os
import secrets
import signal
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from kamu_devstack.errors import InfraError
from kamu_devstack.ports import LOOPBACK, port_is_free
from kamu_devstack.services import (
    CATCHER_SMTP_OFFSET,
    PORTS,
    WORKER_PORTS,
    ServiceProcess,
    start_catcher,
    start_service,
    start_services,
    wait_ready,
)


@dataclass
class Platform:
    """Where a running platform listens, and what it was started with."""

    base_port: int
    kafka_bootstrap: str
    databases: Mapping[str, str]
    secrets: dict[str, str]
    state_dir: Path
    namespace: str = "kamu"
    processes: list[ServiceProcess] = field(default_factory=list)
    # The settings every service was started with beyond its own (``running_platform``'s env).
    env: Mapping[str, str] = field(default_factory=dict)

    def url(self, service: str) -> str:
        """``http://127.0.0.1:<port>`` of a service (or of the ``catcher``)."""
        return next(p.url for p in self.processes if p.name == service)

    @property
    def catcher_folder(self) -> Path:
        return self.state_dir / "catcher"

    @property
    def smtp_port(self) -> int:
        return self.base_port + CATCHER_SMTP_OFFSET

    def process(self, service: str) -> ServiceProcess:
        return next(p for p in self.processes if p.name == service)

    def kill(self, service: str) -> int:
        """``kill -9`` of the service's own process, as a crash would (no shutdown runs); its
        keeper starts it again, as an orchestrator would. The killed pid."""
        pid = self.process(service).service_pid()
        if pid is None:
            raise InfraError(f"{service} is not running under its keeper")
        os.kill(pid, signal.SIGKILL)
        return pid

    def start_again(self, service: str) -> ServiceProcess:
        """Start a service whose keeper is gone too (its whole group killed or stopped), with
        the same port and environment; returns at once (wait for it as the test needs)."""
        old = self.process(service)
        if old.alive():
            raise InfraError(f"{service} still runs (pid {old.pid}); kill it first")
        new = start_service(
            service,
            self.state_dir,
            self.kafka_bootstrap,
            self.databases,
            self.base_port,
            self.secrets,
            self.env,
        )
        self.processes[self.processes.index(old)] = new
        return new

    async def command(self, service: str, *args: str, timeout: float = 180) -> str:
        """``python -m kamu_<service> <args>`` with the service's own settings (a rebuild, a
        dead-letter replay); its output, or AssertionError with its errors when it fails."""
        env = {
            **os.environ,
            "KAMU_DATABASE_URL": self.databases[service],
            "KAMU_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "KAMU_TOPIC_NAMESPACE": self.namespace,
            "KAMU_JWT_SECRET": self.secrets["jwt"],
            "KAMU_LOG_FORMAT": "console",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            f"kamu_{service}",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(timeout):
            out, err = await process.communicate()
        if process.returncode != 0:
            raise AssertionError(f"{service} {' '.join(args)} failed: {err.decode()[-2000:]}")
        return out.decode()


def free_base_port(start: int | None = None, *, workers_apart: bool = False) -> int:
    """A base port whose service and catcher ports are all free now. From a random start, so
    two test workers choosing at the same moment rarely pick the same one (and a loser's
    start fails and is retried: :func:`running_platform`)."""
    offsets = [o for _, o in (*PORTS, *(WORKER_PORTS if workers_apart else ()))]
    first = start if start is not None else 18000 + 30 * secrets.randbelow(1000)
    for base in chain(range(first, 60000, 30), range(18000, first, 30)):
        if all(port_is_free(base + o) for o in offsets):
            return base
    raise RuntimeError(f"no free ports on {LOOPBACK}")


@contextmanager
def running_platform(
    state_dir: Path,
    kafka_bootstrap: str,
    databases: Mapping[str, str],
    *,
    namespace: str = "kamu",
    extra_env: Mapping[str, str] | None = None,
    workers_apart: bool = False,
) -> Iterator[Platform]:
    """Start the catcher and every service, wait until all are ready, stop them all after.
    A start that loses a port to another process (one exits at once) is retried on others.
    ``workers_apart``: each service's API and worker in two processes
    (:func:`~kamu_devstack.services.start_services`), as deployed."""
    platform = Platform(
        base_port=0,
        kafka_bootstrap=kafka_bootstrap,
        databases=databases,
        secrets={"jwt": secrets.token_hex(32), "webhook": secrets.token_hex(32)},
        state_dir=state_dir,
        namespace=namespace,
    )
    env = {"KAMU_TOPIC_NAMESPACE": namespace, **(extra_env or {})}
    platform.env = env
    try:
        for attempt in range(1, 4):
            platform.base_port = free_base_port(workers_apart=workers_apart)
            platform.processes = [start_catcher(state_dir, platform.base_port)]
            platform.processes += start_services(
                state_dir,
                kafka_bootstrap,
                databases,
                platform.base_port,
                platform.secrets,
                env,
                workers_apart=workers_apart,
            )
            try:
                wait_ready(platform.processes)
                break
            except InfraError:
                for process in platform.processes:
                    process.stop()
                if attempt == 3:
                    raise
        yield platform
    finally:
        for process in platform.processes:
            process.stop()
