"""The developer CLI end to end: up, status, env, down, and what it leaves behind."""

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import jwt
import pytest

from kamu_devstack.platform import free_base_port
from kamu_devstack.ports import port_accepts
from kamu_devstack.probes import database_url, kafka_round_trip
from kamu_devstack.processes import pid_alive, processes_mentioning
from kamu_devstack.services import SERVICES, service_database
from kamu_devstack.stack import Stack

ENV_KEYS = ("KAMU_KAFKA_BOOTSTRAP", "KAMU_DATABASE_URL")


def kamu(state_dir: Path, *args: str, env: dict[str, str], check: bool = True):
    return subprocess.run(
        [sys.executable, "-m", "kamu_devstack.cli", "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=check,
    )


def parse_env(output: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


# Made by timers and by the notifications dispatcher as time passes, not by loading the demo.
MADE_BY_TIME = (
    "kamu.meetings.meeting-overdue.v1",
    "kamu.goals.goal-review-due.v1",
    "kamu.notifications.notification-sent.v1",
    "kamu.notifications.notification-failed.v1",
    "kamu.notifications.notification-suppressed.v1",
)


async def commanded_events(postgres_url: str) -> dict[str, dict[str, int]]:
    """Per service, how many events of each type the stack's commands recorded."""
    counts = {}
    for name, _ in SERVICES:
        conn = await asyncpg.connect(database_url(postgres_url, service_database(name)))
        try:
            rows = await conn.fetch(
                "SELECT event_type, count(*) AS n FROM kamu_events "
                "WHERE event_type <> ALL($1::text[]) GROUP BY event_type",
                list(MADE_BY_TIME),
            )
        finally:
            await conn.close()
        counts[name] = {r["event_type"]: r["n"] for r in rows}
    return counts


@pytest.mark.slow
def test_up_detach_status_env_down_leaves_nothing_running(state_dir, infra_env):
    """Services run against servers given by the environment, with a (small) demo loaded;
    loading it again changes nothing; down stops every process."""
    base = free_base_port()

    up = kamu(
        state_dir, "up", "--detach", "--base-port", str(base), "--demo-size", "30", env=infra_env
    )
    assert "all services ready" in up.stdout
    assert "given by KAMU_KAFKA_BOOTSTRAP" in up.stdout
    assert "demo data: 30 people" in up.stdout
    assert f"{'catcher':<14} http://127.0.0.1:{base + 25}" in up.stdout
    assert f"{'insights':<14} http://127.0.0.1:{base + 5}" in up.stdout
    dashboard = re.search(rf"http://127\.0\.0\.1:{base + 5}/dashboard#token=(\S+)", up.stdout)
    assert dashboard, up.stdout
    loaded = asyncio.run(commanded_events(infra_env["KAMU_DATABASE_URL"]))
    assert kamu(state_dir, "demo", env=infra_env).returncode == 0
    assert asyncio.run(commanded_events(infra_env["KAMU_DATABASE_URL"])) == loaded
    assert sum(loaded["meetings"].values()) > 30  # the demo's history is there

    for name, offset in SERVICES:
        ready = httpx.get(f"http://127.0.0.1:{base + offset}/readyz", timeout=10)
        assert ready.status_code == 200, (name, ready.text)
        assert ready.json()["checks"] == {"postgres": "ok"}  # an API needs its database
        work = httpx.get(f"http://127.0.0.1:{base + offset}/readyz/background", timeout=10)
        assert work.status_code == 200, (name, work.text)
        assert work.json()["checks"] == {"postgres": "ok", "kafka": "ok", "consumers": "ok"}
    status = kamu(state_dir, "status", env=infra_env)
    assert status.stdout.count(" ready") == len(SERVICES) + 1  # the services and the catcher
    assert re.search(rf"^insights\s+http://127\.0\.0\.1:{base + 5}\s.* ready$", status.stdout, re.M)
    env_lines = parse_env(kamu(state_dir, "env", env=infra_env).stdout)
    secret = env_lines.pop("KAMU_JWT_SECRET")
    # The printed dashboard link carries a People Operations token the stack accepts.
    link = jwt.decode(dashboard[1], secret, algorithms=["HS256"], audience="kamu")
    assert link["roles"] == ["people-ops"]
    figures = httpx.get(
        f"http://127.0.0.1:{base + 5}/programme/overview",
        headers={"Authorization": f"Bearer {dashboard[1]}"},
        timeout=30,
    )
    assert figures.status_code == 200, figures.text
    assert env_lines == {k: infra_env[k] for k in ENV_KEYS}
    token = kamu(state_dir, "token", "--sub", "alice", "--roles", "people-ops", env=infra_env)
    claims = jwt.decode(token.stdout.strip(), secret, algorithms=["HS256"], audience="kamu")
    assert (claims["sub"], claims["roles"], claims["iss"]) == ("alice", ["people-ops"], "kamu")
    assert asyncio.run(databases(infra_env["KAMU_DATABASE_URL"])) >= {
        service_database(n) for n, _ in SERVICES
    }

    pids = [svc.pid for svc in Stack.load(state_dir).services]

    kamu(state_dir, "down", env=infra_env)

    assert len(pids) == len(SERVICES) + 1
    assert not any(pid_alive(pid) for pid in pids)
    assert all(not port_accepts(base + offset) for _, offset in SERVICES)
    assert not port_accepts(base + 25)
    assert kamu(state_dir, "status", env=infra_env, check=False).returncode == 3


@pytest.mark.slow
def test_two_stacks_at_once_do_not_collide_and_stop_cleanly(state_dir):
    """Two runs started at the same moment get their own servers; down leaves no process."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    dirs = [state_dir / "one", state_dir / "two"]
    starts = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kamu_devstack.cli",
                "--state-dir",
                str(d),
                "up",
                "--detach",
                "--no-services",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        for d in dirs
    ]
    try:
        for proc in starts:
            out, _ = proc.communicate(timeout=240)
            assert proc.returncode == 0, out
        one, two = (parse_env(kamu(d, "env", env=env).stdout) for d in dirs)
        assert one["KAMU_KAFKA_BOOTSTRAP"] != two["KAMU_KAFKA_BOOTSTRAP"]
        assert one["KAMU_DATABASE_URL"] != two["KAMU_DATABASE_URL"]
        asyncio.run(prove_separate(one, two))
    finally:
        for d in dirs:
            kamu(d, "down", env=env, check=False)

    for d, servers in zip(dirs, (one, two), strict=True):
        assert processes_mentioning(f"{d}/") == []
        kafka_port = int(servers["KAMU_KAFKA_BOOTSTRAP"].rsplit(":", 1)[1])
        assert not port_accepts(kafka_port)


async def prove_separate(one: dict[str, str], two: dict[str, str]) -> None:
    await asyncio.gather(*(kafka_round_trip(s["KAMU_KAFKA_BOOTSTRAP"]) for s in (one, two)))
    conn = await asyncpg.connect(one["KAMU_DATABASE_URL"])
    await conn.execute("CREATE DATABASE only_in_one")
    await conn.close()
    assert "only_in_one" not in await databases(two["KAMU_DATABASE_URL"])


async def databases(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        return {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
    finally:
        await conn.close()


@pytest.mark.slow
def test_ctrl_c_in_the_foreground_stops_everything(state_dir, infra_env):
    """``up`` without --detach runs until SIGINT, then stops what it started."""
    base = free_base_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kamu_devstack.cli",
            "--state-dir",
            str(state_dir),
            "up",
            "--base-port",
            str(base),
            "--no-demo",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=infra_env,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "press Ctrl-C" in line:
            break
    pids = [svc.pid for svc in Stack.load(state_dir).services]
    assert len(pids) == len(SERVICES) + 1, "".join(lines)

    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)

    assert proc.returncode == 0, out
    assert not any(pid_alive(pid) for pid in pids)
    assert all(not port_accepts(base + offset) for _, offset in SERVICES)
