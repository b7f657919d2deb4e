"""``kamu-dev``: the developer CLI behind ``./kamu`` (up, down, status, env, demo, test, dlq,
screenshot).

``up`` starts Kafka, PostgreSQL, the five services and the catcher (mail catcher and webhook
receiver), loads the demo data once, prints where each listens and stops them all on Ctrl-C;
``up --detach`` returns once everything is healthy and ``down`` stops it later.
"""

import argparse
import asyncio
import getpass
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kamu_devstack import deadletters
from kamu_devstack.browser import LAPTOP, PHONE, ensure_chromium, screenshot_page
from kamu_devstack.containers import docker_available
from kamu_devstack.demo.load import LoadError
from kamu_devstack.demo.run import DEFAULT_SIZE, load_demo
from kamu_devstack.demo.story import MAX_SIZE, MIN_SIZE
from kamu_devstack.errors import InfraError
from kamu_devstack.gotools import ensure_tools
from kamu_devstack.infra import ENV_DATABASE, ENV_KAFKA
from kamu_devstack.kafka import MAVEN_TIMEOUT, ensure_jars
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
    p_dlq = sub.add_parser(
        "dlq",
        help="parked (dead-letter) messages of every service of the running stack",
        description="list, replay or discard parked messages across every consumer group of "
        "every service, through each service's own `python -m kamu_<service> dlq`",
    )
    p_dlq.add_argument("action", choices=["list", "replay", "discard"])
    p_dlq.add_argument("--event-id", help="one event (its ce_id), in every group that parked it")
    p_dlq.add_argument("--subject", help="one aggregate's messages (list, replay)")
    p_dlq.add_argument(
        "--status",
        default="parked",
        choices=["parked", "replayed", "discarded"],
        help="list: which messages (default parked)",
    )
    p_dlq.add_argument("--reason", help="discard: why (goes to each service's log)")
    p_dlq.add_argument("--by", help="discard: who (default: the user running this)")
    p_dlq.add_argument("--json", action="store_true", help="one JSON object per line")
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
        if args.command == "dlq":
            return cmd_dlq(state_dir, args)
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


def cmd_dlq(state_dir: Path, args: argparse.Namespace) -> int:
    """``./kamu dlq list|replay|discard`` over every service of the running stack."""
    return run_dlq(deadletters.stack_services(Stack.load(state_dir)), args)


def dlq_main(services: Sequence[deadletters.ServiceCommands], argv: Sequence[str]) -> int:
    """``./kamu dlq <argv>`` over the given services (a platform the tests started, say)."""
    return run_dlq(services, _parser().parse_args(["dlq", *argv]))


def run_dlq(services: Sequence[deadletters.ServiceCommands], args: argparse.Namespace) -> int:
    if args.action == "list":
        rows = asyncio.run(
            deadletters.list_parked(
                services, status=args.status, event_id=args.event_id, subject=args.subject
            )
        )
        return show_parked(rows, args.status, as_json=args.json)
    if args.action == "replay":
        reports = asyncio.run(
            deadletters.replay(services, event_id=args.event_id, subject=args.subject)
        )
        return show_replayed(reports, args.event_id, as_json=args.json)
    if not args.event_id:
        print("kamu: dlq discard needs --event-id (see `./kamu dlq list`)", file=sys.stderr)
        return 2
    answers = asyncio.run(
        deadletters.discard(
            services, event_id=args.event_id, reason=args.reason, by=args.by or _operator()
        )
    )
    return show_discarded(answers, args.event_id, as_json=args.json)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _short(text: object, width: int) -> str:
    line = " ".join(str(text if text is not None else "-").split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _error(row: dict[str, object]) -> str:
    """The error without the event type it often starts with (a column of its own)."""
    error, kind = str(row.get("error") or ""), str(row.get("event_type") or "")
    while kind and error.startswith(kind):
        error = error.removeprefix(kind).lstrip(": ")
    return error


PARKED_COLUMNS = ("service", "group", "id", "event_id", "event_type", "subject", "parked_at")


def show_parked(rows: Sequence[dict[str, object]], status: str, *, as_json: bool) -> int:
    """A table of parked messages (one line each, the error shortened), oldest first."""
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return 0
    if not rows:
        say(f"no {status} messages in any group of any service")
        return 0
    columns = PARKED_COLUMNS
    widths = {c: max(len(c), *(len(str(r.get(c) or "-")) for r in rows)) for c in columns}
    say("  ".join(c.upper().ljust(widths[c]) for c in columns) + "  ERROR")
    for row in rows:
        cells = "  ".join(str(row.get(c) or "-").ljust(widths[c]) for c in columns)
        say(f"{cells}  {_short(_error(row), 100)}")
    events = {r.get("event_id") for r in rows}
    groups = {(r["service"], r["group"]) for r in rows}
    say(
        f"{len(rows)} {status} message(s) of {len(events)} event(s) in {len(groups)} group(s); "
        "`--json` shows every field and the whole error"
    )
    return 0


def show_replayed(reports: Sequence[dict[str, Any]], event_id: str | None, *, as_json: bool) -> int:
    """Each group that had something to replay; exit 1 when a message failed again."""
    busy = [r for r in reports if r["replayed"] or r["failed"] or r["still_parked"]]
    if as_json:
        for report in busy:
            print(json.dumps(report))
    else:
        for r in busy:
            say(
                f"{r['service']:<14} {r['group']}: replayed {r['replayed']}, "
                f"failed {r['failed']}, still parked {r['still_parked']}"
            )
    failed = sum(r["failed"] for r in reports)
    if not busy:
        what = f"event {event_id}" if event_id else "anything"
        print(f"kamu: no group of any service has {what} parked", file=sys.stderr)
        return 1 if event_id else 0
    if not as_json:
        replayed = sum(r["replayed"] for r in reports)
        say(f"replayed {replayed} message(s) in {len(busy)} group(s); {failed} failed again")
    return 1 if failed else 0


def show_discarded(answers: Sequence[dict[str, Any]], event_id: str, *, as_json: bool) -> int:
    """Each group that discarded the event; exit 1 when none had it parked."""
    done = [a for a in answers if a["discarded"]]
    if as_json:
        for answer in done:
            print(json.dumps(answer))
    else:
        for a in done:
            say(f"{a['service']:<14} {a['group']}: discarded {len(a['discarded'])}")
            if a["still_parked_behind"]:
                say(
                    f"{'':<14} {a['still_parked_behind']} later message(s) of its subject still "
                    "parked behind it: `./kamu dlq replay --subject "
                    f"{a['discarded'][0]['subject']}`"
                )
    if not done:
        print(f"kamu: no group of any service has event {event_id} parked", file=sys.stderr)
        return 1
    if not as_json:
        by, reason = done[0]["by"], done[0]["reason"]
        why = f": {reason}" if reason else ""
        say(
            f"discarded event {event_id} in {len(done)} group(s) by {by}{why} "
            "(recorded in each service's log as `message-discarded`)"
        )
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


DEPLOY_TESTS = Path("tests") / "deploy"


def wants_deploy_tests(pytest_args: Sequence[str], root: Path) -> bool:
    """Whether the run may include tests/deploy: no paths given (everything), or a path that
    holds tests/deploy or lies in it. (``-k`` may still deselect them: then a build is
    wasted, never missing.)"""
    paths = [
        Path(arg.split("::", 1)[0])
        for arg in pytest_args
        if not arg.startswith("-") and (root / arg.split("::", 1)[0]).exists()
    ]
    deploy = (root / DEPLOY_TESTS).resolve()
    return not paths or any(
        (found := (root / path).resolve()) == deploy
        or deploy in found.parents
        or found in deploy.parents
        for path in paths
    )


def local_kafka_wanted() -> bool:
    """Whether the tests will start Kafka from its Maven artifacts (no broker given by the
    environment, no Docker engine chosen), so its jars must be resolved first."""
    if os.environ.get(ENV_KAFKA):
        return False
    mode = os.environ.get("KAMU_INFRA", "auto")
    return mode == "local" or (mode == "auto" and not docker_available())


def prepare_for_tests(pytest_args: Sequence[str], root: Path) -> None:
    """Everything the tests need that is downloaded or compiled, made ready before pytest
    starts (its limit is 300 s per test, and two xdist workers would each start on it): each
    step with lines of progress and a time limit of its own. InfraError stops the run."""
    say("\n==> prepare: what the tests download or compile")
    started = time.monotonic()
    steps: list[tuple[str, Callable[[], object]]] = [
        ("Chromium and chromedriver (the dashboard's browser tests)", lambda: ensure_chromium(say))
    ]
    if local_kafka_wanted():
        steps.append(("Apache Kafka's jars", lambda: ensure_jars(say=say, timeout=MAVEN_TIMEOUT)))
    if wants_deploy_tests(pytest_args, root):
        steps.append(("the deploy tests' Go tools", lambda: ensure_tools(say)))
    for name, step in steps:
        began = time.monotonic()
        step()
        say(f"    ready: {name} ({time.monotonic() - began:.2f} s)")
    say(f"==> prepared in {time.monotonic() - started:.2f} s")


def cmd_test(pytest_args: Sequence[str]) -> int:
    """Prepare what the tests download or compile (the browser, Kafka's jars, the deploy
    tests' Go tools), lint, type-check, then every test; stop at the first step that fails
    (a browser or tool that cannot be had fails the run, it never skips tests)."""
    root = project_root()
    prepare_for_tests(pytest_args, root)
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
