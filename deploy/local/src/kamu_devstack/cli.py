"""``kamu-dev``: the developer CLI behind ``./kamu`` (up, down, status, env, demo, test,
screenshot).

``up`` starts Kafka, PostgreSQL, the five services and the catcher (mail catcher and webhook
receiver), loads the demo data once, prints where each listens and stops them all on Ctrl-C;
``up --detach`` returns once everything is healthy and ``down`` stops it later.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from kamu_devstack.browser import LAPTOP, PHONE, ensure_chromium, screenshot_page
from kamu_devstack.demo.load import LoadError
from kamu_devstack.demo.run import DEFAULT_SIZE, load_demo
from kamu_devstack.demo.story import MAX_SIZE, MIN_SIZE
from kamu_devstack.errors import InfraError
from kamu_devstack.infra import ENV_DATABASE, ENV_KAFKA
from kamu_devstack.paths import default_state_dir, project_root
from kamu_devstack.services import (
    CATCHER_HTTP_OFFSET,
    CATCHER_SMTP_OFFSET,
    DEFAULT_BASE_PORT,
    PUBLISHERS,
)
from kamu_devstack.stack import (
    DASHBOARD_TOKEN_SECONDS,
    Stack,
    dashboard_url,
    down,
    jwt_secret,
    up,
)


def say(line: str) -> None:
    print(line, flush=True)


def demo_size(text: str) -> int:
    """A demo size argparse refuses with a clear message when out of range."""
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"a demo has {MIN_SIZE} to {MAX_SIZE} people")
    return size


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kamu", description=__doc__)
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where servers keep data, logs and pids (default: KAMU_STATE_DIR "
        "or a folder in the temp dir named for this checkout)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start infrastructure and services")
    p_up.add_argument(
        "-d",
        "--detach",
        action="store_true",
        help="return once everything is healthy; `down` stops it later",
    )
    p_up.add_argument(
        "--base-port",
        type=int,
        default=DEFAULT_BASE_PORT,
        help="services listen on BASE+1 (pairing) to BASE+5 (insights)",
    )
    p_up.add_argument("--no-services", action="store_true", help="start Kafka and PostgreSQL only")
    p_up.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    p_up.add_argument(
        "--demo-size",
        type=demo_size,
        default=DEFAULT_SIZE,
        help=f"people in the demo organisation ({MIN_SIZE} to {MAX_SIZE})",
    )
    p_demo = sub.add_parser("demo", help="load the demo data into the running stack (again)")
    p_demo.add_argument("--size", type=demo_size, default=None, help="people (default: as loaded)")
    p_down = sub.add_parser("down", help="stop everything a detached `up` started")
    p_down.add_argument("--purge", action="store_true", help="also delete data and logs")
    sub.add_parser("status", help="show what runs and whether it is ready")
    sub.add_parser("env", help="print KAMU_KAFKA_BOOTSTRAP=... and KAMU_DATABASE_URL=... lines")
    p_token = sub.add_parser("token", help="mint a JWT for the running stack's services")
    p_token.add_argument("--sub", required=True, help="person id")
    p_token.add_argument("--roles", default="employee", help="comma-separated roles")
    p_token.add_argument("--ttl", default="3600", help="seconds")
    sub.add_parser("docs", help="regenerate the event catalogue in docs/events")
    p_shot = sub.add_parser(
        "screenshot", help="capture the running stack's dashboard with a People Operations token"
    )
    p_shot.add_argument(
        "--out", type=Path, default=Path("docs/images/dashboard.png"), help="PNG to write"
    )
    p_shot.add_argument("--phone", action="store_true", help="at 390x844 instead of 1366x900")
    p_shot.add_argument("--query", default="", help="filters, e.g. 'team=Sales&from=2026-01'")
    p_bench = sub.add_parser("bench", help="run the core benchmark (docs/benchmarks)")
    p_bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="e.g. --quick")
    p_test = sub.add_parser("test", help="lint, type-check and run every test")
    p_test.add_argument(
        "pytest_args", nargs=argparse.REMAINDER, help="passed to pytest (e.g. -k pattern)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    state_dir: Path = (args.state_dir or default_state_dir()).resolve()
    try:
        if args.command == "up":
            demo = None if args.no_demo or args.no_services else args.demo_size
            return cmd_up(state_dir, args.base_port, not args.no_services, args.detach, demo)
        if args.command == "demo":
            return cmd_demo(state_dir, args.size)
        if args.command == "down":
            down(state_dir, say, purge=args.purge)
            return 0
        if args.command == "status":
            return cmd_status(state_dir)
        if args.command == "env":
            return cmd_env(state_dir)
        if args.command == "token":
            return cmd_token(state_dir, args.sub, args.roles, args.ttl)
        if args.command == "bench":
            return subprocess.call(
                [sys.executable, "-m", "benchmarks.core", *args.bench_args], cwd=project_root()
            )
        if args.command == "docs":
            return cmd_docs(project_root() / "docs" / "events")
        if args.command == "screenshot":
            return cmd_screenshot(state_dir, args.out, args.phone, args.query)
        return cmd_test(args.pytest_args)
    except (InfraError, LoadError) as exc:
        print(f"kamu: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("kamu: interrupted; what was started is stopped", file=sys.stderr, flush=True)
        return 130


def cmd_up(
    state_dir: Path, base_port: int, with_services: bool, detach: bool, demo_size: int | None
) -> int:
    stop = threading.Event()

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # While starting (and loading the demo), Ctrl-C and SIGTERM abort the start, which stops
    # whatever it started; once running, they mean "stop everything" in order. Servers run in
    # their own sessions, so the terminal's SIGINT reaches only us.
    signal.signal(signal.SIGTERM, interrupt)
    stack = up(state_dir, base_port, with_services, say)
    if demo_size is not None:
        try:
            _load_demo(stack, demo_size, again=False)
        except BaseException:
            down(state_dir, say=lambda _line: None)  # as a failed start: nothing left behind
            raise
    if not detach:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    _print_where(stack)
    if detach:
        say("detached: `./kamu status` shows it, `./kamu down` stops it")
        return 0
    say("running; press Ctrl-C to stop")
    while not stop.wait(1.0):
        if stack.services and not all(s.alive() for s in stack.services):
            dead = [s.name for s in stack.services if not s.alive()]
            say(f"service(s) exited: {', '.join(dead)}; stopping")
            break
    down(state_dir, say)
    return 0


def _load_demo(stack: Stack, size: int, *, again: bool) -> None:
    urls = {s.name: s.url for s in stack.services}
    load_demo(
        stack.state_dir,
        urls,
        jwt_secret(stack.state_dir),
        say,
        catcher_url=urls.get("catcher"),
        size=size,
        again=again,
    )


def cmd_demo(state_dir: Path, size: int | None) -> int:
    stack = Stack.load(state_dir)
    if not stack.services or not all(s.alive() for s in stack.services):
        print(
            "kamu: the services do not run; start them with `./kamu up --detach`", file=sys.stderr
        )
        return 3
    recorded = json.loads(p.read_text()) if (p := state_dir / "demo.json").exists() else {}
    _load_demo(stack, size or recorded.get("size", DEFAULT_SIZE), again=True)
    return 0


def _print_where(stack: Stack) -> None:
    say("")
    for svc in stack.services:
        if svc.name == "catcher":
            smtp = svc.port - CATCHER_HTTP_OFFSET + CATCHER_SMTP_OFFSET
            say(f"  {'catcher':<14} {svc.url}  (sent email and webhooks; SMTP on port {smtp})")
            continue
        say(f"  {svc.name:<14} {svc.url}  (docs {svc.url}/docs, log {svc.log})")
    if dashboard := dashboard_url(stack):
        say(f"  {'dashboard':<14} {dashboard}")
        hours = DASHBOARD_TOKEN_SECONDS // 3600
        say(f"  {'':<14} (People Operations' programme figures; the link works for {hours} h)")
    if stack.infra:
        say(f"  {ENV_KAFKA}={stack.infra.kafka_bootstrap}")
        say(f"  {ENV_DATABASE}={stack.infra.postgres_url}")


def cmd_status(state_dir: Path) -> int:
    stack = Stack.load(state_dir)
    if not stack.running():
        say(f"not running (state folder {state_dir})")
        return 3
    infra = stack.infra
    if infra:
        for line in infra.describe():
            say(line)
    healthy = True
    for svc in stack.services:
        state = svc.readiness()
        healthy &= state == "ready"
        say(f"{svc.name:<14} {svc.url:<24} pid {svc.pid:<8} {state}")
    return 0 if healthy else 1


def cmd_env(state_dir: Path) -> int:
    stack = Stack.load(state_dir)
    if not stack.infra or not stack.running():
        print("kamu: nothing runs; start it with `./kamu up --detach`", file=sys.stderr)
        return 3
    for key, value in stack.infra.env().items():
        print(f"{key}={value}")
    if (secret := state_dir / "jwt-secret").exists():
        print(f"KAMU_JWT_SECRET={secret.read_text().strip()}")
    return 0


def cmd_token(state_dir: Path, sub: str, roles: str, ttl: str) -> int:
    """A bearer token the stack's services accept (``python -m kamu_shared.auth mint``)."""
    secret_file = state_dir / "jwt-secret"
    if not secret_file.exists():
        print("kamu: nothing runs; start it with `./kamu up --detach`", file=sys.stderr)
        return 3
    env = {**os.environ, "KAMU_JWT_SECRET": secret_file.read_text().strip()}
    argv = ["mint", "--sub", sub, "--roles", roles, "--ttl", ttl]
    return subprocess.call([sys.executable, "-m", "kamu_shared.auth", *argv], env=env)


def cmd_docs(out: Path) -> int:
    """Each service that publishes writes its own catalogue (AsyncAPI, JSON Schemas, a table);
    insights publishes no events, so it has none."""
    for name in PUBLISHERS:
        code = subprocess.call([sys.executable, "-m", f"kamu_{name}", "docs", str(out)])
        if code != 0:
            return code
    return 0


def test_workers(pytest_args: Sequence[str]) -> list[str]:
    """pytest-xdist options: ``KAMU_TEST_WORKERS`` processes (default 2, one per core of the
    reference machine), each with Kafka and PostgreSQL of its own, whole files per worker (so
    module-scoped services start once). Most tests wait on Kafka and the network rather than
    compute, so two workers halve the run. Not when the caller chose (``-n``, ``-p no:xdist``)
    or asked for one worker."""
    workers = os.environ.get("KAMU_TEST_WORKERS", "2")
    chosen = any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in pytest_args)
    if chosen or "no:xdist" in pytest_args or workers in ("0", "1"):
        return []
    return ["-n", workers, "--dist", "loadfile"]


def cmd_screenshot(state_dir: Path, out: Path, phone: bool, query: str) -> int:
    """The dashboard of the running stack as a PNG (whole page), with a minted token."""
    stack = Stack.load(state_dir)
    url = dashboard_url(stack) if stack.running() else None
    if url is None or not all(s.alive() for s in stack.services):
        print(
            "kamu: insights does not run; start the stack with `./kamu up --detach`",
            file=sys.stderr,
        )
        return 3
    if query:
        page, fragment = url.split("#", 1)
        url = f"{page}?{query.lstrip('?')}#{fragment}"
    ensure_chromium(say)
    target = out if out.is_absolute() else Path.cwd() / out
    screenshot_page(url, target, PHONE if phone else LAPTOP)
    say(f"kamu: the dashboard is in {target}")
    return 0


def cmd_test(pytest_args: Sequence[str]) -> int:
    """Install the browser the dashboard's tests drive, lint, type-check, then every test;
    stop at the first step that fails (a browser that cannot be installed fails the run)."""
    root = project_root()
    ensure_chromium(say)
    steps = [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
        ["lint-imports"],
        ["pytest", *test_workers(pytest_args), *pytest_args],
    ]
    for step in steps:
        say(f"\n==> {' '.join(step)}")
        code = subprocess.call(step, cwd=root, env=os.environ.copy())
        if code != 0:
            say(f"==> failed: {' '.join(step)} (exit {code})")
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
