"""The keeper starts a service again whenever it ends unasked, and stops with its group."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kamu_devstack.processes import pid_alive, spawn, stop_group

SERVICE = "import time\nwhile True: time.sleep(0.1)\n"


def keeper(pidfile: Path, log: Path, code: str = SERVICE) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "kamu_devstack.keeper", "--pidfile", str(pidfile)]
    return spawn([*argv, "--", sys.executable, "-c", code], log)


def wait_for(predicate, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s")


def child_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def test_a_killed_service_is_started_again_and_the_group_stops_together(tmp_path):
    pidfile, log = tmp_path / "svc.pid", tmp_path / "svc.log"
    process = keeper(pidfile, log)
    try:
        first = wait_for(lambda: child_pid(pidfile))
        os.kill(first, signal.SIGKILL)
        second = wait_for(lambda: (pid := child_pid(pidfile)) and pid != first and pid)
        assert process.poll() is None
        assert "the service ended (exit -9)" in log.read_text()
    finally:
        stop_group(process.pid, timeout=10)
    assert not pid_alive(second)
    assert process.wait(5) == 0


def test_a_start_that_fails_at_once_is_not_retried(tmp_path):
    pidfile, log = tmp_path / "svc.pid", tmp_path / "svc.log"
    process = keeper(pidfile, log, "raise SystemExit(3)")
    assert process.wait(30) == 3
    assert "failed to start (exit 3); giving up" in log.read_text()
