"""A real PostgreSQL server (15 or newer) from the machine's packages, on a free loopback port.

PostgreSQL refuses to run as root, so when we are root the cluster is created and run as an
unprivileged user (``postgres`` where the package made one, else ``kamu-pg``) through
``runuser``. Authentication is ``trust`` on loopback only: this server is for development and tests.
"""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from kamu_devstack.errors import InfraError
from kamu_devstack.ports import LOOPBACK, free_port
from kamu_devstack.processes import pid_alive, run

SUPERUSER = "postgres"
SERVER_SETTINGS = {
    "listen_addresses": LOOPBACK,
    "max_connections": "200",
    "shared_buffers": "128MB",
    "fsync": "on",
    "log_min_messages": "warning",
    "logging_collector": "off",
    # A session left idle inside a transaction (a forgotten BEGIN in psql, a stuck client) is
    # ended after a minute: its transaction holds back its database's outbox relay (and
    # vacuum). No Kamu code waits for anything inside a transaction; a minute is also longer
    # than any test holds one open on purpose (its waits give up after 30 s).
    "idle_in_transaction_session_timeout": "60s",
}


def find_bin_dir() -> Path:
    """The newest PostgreSQL server's binaries (``KAMU_PG_BIN`` overrides)."""
    if env := os.environ.get("KAMU_PG_BIN"):
        return Path(env)
    candidates = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if candidates and int(candidates[-1].parent.name) >= 15:
        return candidates[-1]
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    raise InfraError(
        "No PostgreSQL server (15 or newer) was found. Install one, for example "
        "`apt-get install postgresql` (Debian's package provides /usr/lib/postgresql/<v>/bin), "
        "set KAMU_PG_BIN to its bin folder, or point KAMU_DATABASE_URL at a running server."
    )


def server_version(bin_dir: Path) -> str:
    return run([str(bin_dir / "postgres"), "--version"], "reading PostgreSQL's version").strip()


def _run_as_user() -> str | None:
    """The user to run the server as: ``None`` means ourselves (we are not root)."""
    if os.geteuid() != 0:
        return None
    for name in (os.environ.get("KAMU_PG_USER"), SUPERUSER, "kamu-pg"):
        if not name:
            continue
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "kamu-pg"],
        "creating the unprivileged user kamu-pg for PostgreSQL",
    )
    return "kamu-pg"


def _children(parent: int) -> list[int]:
    """Ids of the processes whose parent is ``parent``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent:
            found.append(int(stat.parent.name))
    return found


@dataclass
class PostgresServer:
    """One PostgreSQL cluster living in ``home`` (data, socket and log)."""

    home: Path
    port: int = 0

    @property
    def admin_url(self) -> str:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/postgres"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    def start(self, attempts: int = 3) -> None:
        """Create the cluster if new and start it; return once it accepts connections."""
        bin_dir = find_bin_dir()
        user = _run_as_user()
        self._prepare(user)
        if not (self.data_dir / "PG_VERSION").exists():
            self._as(
                user,
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ],
                "initdb",
            )
        for attempt in range(1, attempts + 1):
            self.port = self.port or free_port()
            options = " ".join(f"-c {k}={v}" for k, v in SERVER_SETTINGS.items())
            options += f" -p {self.port} -k {self.home / 'run'}"
            try:
                self._as(
                    user,
                    [
                        str(bin_dir / "pg_ctl"),
                        "start",
                        "-D",
                        str(self.data_dir),
                        "-l",
                        str(self.log_file),
                        "-w",
                        "-t",
                        "60",
                        "-o",
                        options,
                    ],
                    "starting PostgreSQL",
                )
                return
            except InfraError:
                if attempt == attempts:
                    raise
                self.port = 0  # lost a port race: try a fresh port

    def stop(self) -> None:
        """Stop the server (fast shutdown) and wait until its processes are gone."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        user = _run_as_user()
        try:
            self._as(
                user,
                [
                    str(find_bin_dir() / "pg_ctl"),
                    "stop",
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    "60",
                ],
                "stopping PostgreSQL",
            )
        except InfraError:
            if (self.data_dir / "postmaster.pid").exists():
                raise

    def kill(self) -> None:
        """``kill -9`` of the postmaster and every server process, as a crash of the whole
        server would: no checkpoint, no goodbye to clients. :meth:`start` (``attempts=1`` keeps
        the port) then recovers from the WAL."""
        pidfile = self.data_dir / "postmaster.pid"
        if not pidfile.exists():
            return
        postmaster = int(pidfile.read_text().split()[0])
        with contextlib.suppress(ProcessLookupError):
            os.kill(postmaster, signal.SIGSTOP)  # no new backends while we gather them
        victims = [postmaster, *_children(postmaster)]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(pid_alive(pid) for pid in victims):  # zombies count as gone
            if time.monotonic() > deadline:
                raise InfraError(f"PostgreSQL processes {victims} outlived SIGKILL")
            time.sleep(0.02)
        # Where nothing reaps orphans (a container's init may not), the dead postmaster stays a
        # zombie whose pid the lock files still name, and a new postmaster would refuse to start.
        for lock in (pidfile, self.home / "run" / f".s.PGSQL.{self.port}.lock"):
            lock.unlink(missing_ok=True)

    def running(self) -> bool:
        pidfile = self.data_dir / "postmaster.pid"
        if not pidfile.exists():
            return False
        pid = int(pidfile.read_text().split()[0])
        return Path(f"/proc/{pid}").exists()

    def _prepare(self, user: str | None) -> None:
        for folder in (self.home, self.home / "run"):
            folder.mkdir(parents=True, exist_ok=True)
        if user is None:
            return
        entry = pwd.getpwnam(user)
        for folder in (self.home, self.home / "run"):
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        if self.log_file.exists():
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)
        probe = subprocess.run(
            ["runuser", "-u", user, "--", "test", "-w", str(self.home)], check=False
        )
        if probe.returncode != 0:
            raise InfraError(
                f"PostgreSQL runs as the user {user!r} (it refuses root), and {user!r} cannot "
                f"write {self.home}. Choose a state folder every user can reach, for example "
                f"KAMU_STATE_DIR=/tmp/kamu-state."
            )

    @staticmethod
    def _as(user: str | None, argv: list[str], what: str) -> None:
        if user is not None:
            argv = ["runuser", "-u", user, "--", *argv]
        run(argv, what)
