"""The core benchmark: Kamu's event store, relay and consumer, each next to a baseline.

    .venv/bin/python -m benchmarks.core [--events N | --quick] [--out docs/benchmarks/core.json]

Starts Kafka and PostgreSQL of its own (unless KAMU_KAFKA_BOOTSTRAP / KAMU_DATABASE_URL name
servers), prints one line per phase and a table, writes the JSON and a markdown table next to it.
"""

import argparse
import asyncio
import inspect
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from benchmarks.machine import machine_info
from benchmarks.phases import (
    WARM_UP_SHARE,
    Settings,
    append_phase,
    consume_phase,
    rebuild_phase,
    relay_phase,
)
from benchmarks.report import Figure, Report, console_table, write
from benchmarks.servers import Scratch, Servers, provided_servers
from kamu_shared.outbox.relay import OutboxRelay

DEFAULT_EVENTS = 10_000
QUICK_EVENTS = 500
ROUNDS = 5
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks" / "core.json"


def say(text: str, end: str = "\n") -> None:
    """Progress goes to stdout as it happens."""
    sys.stdout.write(text + end)
    sys.stdout.flush()


@contextmanager
def phase(label: str) -> Iterator[list[str]]:
    """One progress line: the label now, its duration and the details appended when done."""
    say(f"{label:<36}", end="")
    started = time.perf_counter()
    details: list[str] = []
    try:
        yield details
    except BaseException:
        say("failed")
        raise
    say(f"{time.perf_counter() - started:6.1f} s  {'  '.join(details)}".rstrip())


def _rates(figure: Figure) -> str:
    return f"ours {figure.ours_per_s:,.0f}/s  baseline {figure.baseline_per_s:,.0f}/s"


async def _figures(servers: Servers, settings: Settings) -> list[Figure]:
    scratch = Scratch(servers)
    figures: list[Figure] = []
    try:
        for size in (1, 100):
            with phase(f"append, {size}-event transactions") as details:
                found = await append_phase(scratch, settings, size)
                details.append(
                    f"{_rates(found[0])}  eventsourcing {found[1].baseline_per_s:,.0f}/s"
                )
            figures.extend(found)
        with phase("relay publish") as details:
            relayed, published = await relay_phase(scratch, servers, settings)
            details.append(_rates(relayed))
        with phase("projection consume") as details:
            consumed = await consume_phase(scratch, servers, settings, published)
            details.append(_rates(consumed))
        with phase("projection rebuild") as details:
            rebuilt = await rebuild_phase(scratch, servers, published)
            details.append(_rates(rebuilt))
    finally:
        with phase("dropping databases and topics"):
            await scratch.drop_all()
    return _ordered([*figures, relayed, consumed, rebuilt])


def _ordered(figures: list[Figure]) -> list[Figure]:
    """By number: 1, 2, 3, 4a, 4b, then the eventsourcing reference 5a, 5b."""
    return sorted(figures, key=lambda f: f.name)


async def _run(servers: Servers, settings: Settings) -> Report:
    started = time.perf_counter()
    load_before = _load_average()
    machine = await machine_info(servers)
    figures = await _figures(servers, settings)
    batch_size = inspect.signature(OutboxRelay).parameters["batch_size"].default
    run: dict[str, Any] = {
        "events_per_figure": settings.events,
        "rounds": settings.rounds,
        "warm_up": f"1/{WARM_UP_SHARE} of the events per figure, untimed, before the rounds",
        "relay_batch_size": batch_size,
        "seconds": round(time.perf_counter() - started, 1),
        "load_average_before_after": [load_before, _load_average()],
    }
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Report(date, machine, run, figures)


def _load_average() -> float:
    """The 1-minute load average: other work on the machine shows here."""
    return round(os.getloadavg()[0], 2)


def _quiet_logs() -> None:
    """Warnings and errors only: info lines from the relay or rebuild would break the table."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.basicConfig(level=logging.WARNING)


def _events(text: str) -> int:
    value = int(text)
    if value < 100 or value % 100:
        raise argparse.ArgumentTypeError("--events must be a positive multiple of 100")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.core",
        description="Kamu's event store, relay and consumer next to raw-client baselines.",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--events", type=_events, help=f"events per figure (default {DEFAULT_EVENTS:,})"
    )
    size.add_argument(
        "--quick", action="store_true", help=f"{QUICK_EVENTS} events: a smoke test, not figures"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help=f"JSON to write, markdown next to it (default {DEFAULT_OUT}; with --quick a "
        "temporary folder, so a smoke test never replaces the published figures)",
    )
    return parser.parse_args(argv)


def _out_path(args: argparse.Namespace) -> Path:
    if args.out:
        return Path(args.out)
    if args.quick:
        return Path(tempfile.gettempdir()) / "kamu-benchmarks" / "core.json"
    return DEFAULT_OUT


def main(argv: Sequence[str] | None = None) -> int:
    """Run every phase, print the table, write the JSON and markdown."""
    args = parse_args(argv)
    _quiet_logs()
    events = args.events or (QUICK_EVENTS if args.quick else DEFAULT_EVENTS)
    settings = Settings(events=events, rounds=ROUNDS)
    say(f"kamu benchmark: {events:,} events per figure, {ROUNDS} interleaved rounds")
    with ExitStack() as servers_up:
        with phase("starting Kafka and PostgreSQL") as details:
            servers = servers_up.enter_context(provided_servers())
            details.append(f"{servers.kafka_provider}; {servers.postgres_provider}")
        report = asyncio.run(_run(servers, settings))
        with phase("stopping Kafka and PostgreSQL"):
            servers_up.close()
    say("\n" + console_table(report.figures) + "\n")
    markdown = write(report, _out_path(args))
    say(f"wrote {_out_path(args)} and {markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
