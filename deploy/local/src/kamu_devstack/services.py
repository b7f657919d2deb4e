"""Kamu's service processes on one machine: given the servers' addresses, proven ready."""

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from kamu_devstack.errors import InfraError
from kamu_devstack.ports import LOOPBACK, port_is_free
from kamu_devstack.probes import database_url
from kamu_devstack.processes import pid_alive, spawn, stop_group

SERVICES: tuple[tuple[str, int], ...] = (
    ("pairing", 1),
    ("meetings", 2),
    ("goals", 3),
    ("notifications", 4),
)
DEFAULT_BASE_PORT = 8000


def service_database(name: str) -> str:
    """Each service owns one database; no service reads another's."""
    return f"kamu_{name}"


@dataclass
class ServiceProcess:
    """One running service API."""

    name: str
    port: int
    log: str
    pid: int = 0

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def alive(self) -> bool:
        return bool(self.pid) and pid_alive(self.pid)

    def readiness(self) -> str:
        """``ready``, ``not-ready: <why>`` or ``down``."""
        if not self.alive():
            return "down"
        try:
            response = httpx.get(f"{self.url}/readyz", timeout=5)
        except httpx.HTTPError as exc:
            return f"not-ready: {type(exc).__name__}"
        if response.status_code == 200:
            return "ready"
        failing = {k: v for k, v in response.json().get("checks", {}).items() if v != "ok"}
        return f"not-ready: {failing}"

    def stop(self) -> None:
        if self.alive():
            stop_group(self.pid, timeout=15)


def check_ports_free(base_port: int) -> None:
    """Fail early, naming the port, if a service's port is taken."""
    taken = [(n, base_port + o) for n, o in SERVICES if not port_is_free(base_port + o)]
    if taken:
        listing = ", ".join(f"{name} on {port}" for name, port in taken)
        raise InfraError(
            f"ports in use: {listing}. Stop what listens there (`./kamu down` if it is an earlier "
            f"Kamu), or choose other ports with --base-port."
        )


def start_services(
    state_dir: Path, kafka_bootstrap: str, postgres_url: str, base_port: int, jwt_secret: str
) -> list[ServiceProcess]:
    """Start every service API in its own process group."""
    started = []
    for name, offset in SERVICES:
        port = base_port + offset
        log = state_dir / "services" / f"{name}.log"
        env = {
            **os.environ,
            "KAMU_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "KAMU_DATABASE_URL": database_url(postgres_url, service_database(name)),
            "KAMU_HTTP_PORT": str(port),
            "KAMU_LOG_FORMAT": "json",
            "KAMU_JWT_SECRET": jwt_secret,
        }
        proc = spawn([sys.executable, "-m", f"kamu_{name}", "api", "--port", str(port)], log, env)
        started.append(ServiceProcess(name=name, port=port, log=str(log), pid=proc.pid))
    return started


def wait_ready(services: list[ServiceProcess], timeout: float = 90.0) -> None:
    """Return once every service answers ``/readyz`` with 200."""
    deadline = time.monotonic() + timeout
    pending = list(services)
    while pending:
        for svc in list(pending):
            state = svc.readiness()
            if state == "ready":
                pending.remove(svc)
            elif state == "down":
                raise InfraError(f"{svc.name} exited while starting; see {svc.log}")
        if pending and time.monotonic() > deadline:
            names = ", ".join(f"{s.name} ({s.readiness()})" for s in pending)
            raise InfraError(f"not ready after {timeout:g}s: {names}")
        time.sleep(0.2)
