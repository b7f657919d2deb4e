"""Every service's command line: ``python -m kamu_<service> api|worker|migrate|dlq|rebuild|docs``.

- ``api``: the HTTP API, plus relay and consumers unless ``KAMU_RUN_RELAY`` /
  ``KAMU_RUN_CONSUMERS`` are false (API-only replicas).
- ``worker``: relay and consumers with only the operations endpoints (scale them on their own).
- ``dlq list|replay|discard``: the dead letters of the service's consumer groups (``--event-id``
  for one event in every group that parked it, ``--json`` for tools such as ``./kamu dlq``).
- ``rebuild NAME``: rebuild a projection from its topics and swap it in, showing progress.
- ``docs OUT``: write the event catalogue (JSON Schemas, AsyncAPI) of the service's topic.
"""

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from kamu_shared.consumer.parking import DeadLetters, describe
from kamu_shared.consumer.processing import Processor
from kamu_shared.db.migrations import apply_migrations
from kamu_shared.events.schema import write_event_docs
from kamu_shared.logging import configure_logging
from kamu_shared.projections.projection import live_group, live_schema, projection_processor
from kamu_shared.projections.rebuild import RebuildProgress, rebuild
from kamu_shared.runtime import Runtime, ServiceDefinition, create_app, open_runtime, processor_for
from kamu_shared.settings import ServiceSettings


def _parser(definition: ServiceDefinition, settings: ServiceSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"kamu-{definition.name}",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("api", "serve the HTTP API"), ("worker", "run relay and consumers")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--host", default=settings.http_host)
        cmd.add_argument("--port", type=int, default=settings.http_port)
    sub.add_parser("migrate", help="apply pending database migrations and exit")
    dlq = sub.add_parser(
        "dlq",
        help="list, replay or discard parked messages",
        description="The dead letters of this service's consumer groups. list: one JSON object "
        "per parked message. replay: apply them again (a subject's messages in order). "
        "discard: give up on one (--id) or on every parked copy of one event (--event-id).",
    )
    dlq.add_argument("action", choices=["list", "replay", "discard"])
    dlq.add_argument("--group", help="consumer group (default: all of this service's)")
    dlq.add_argument("--subject", help="only this aggregate")
    dlq.add_argument(
        "--event-id",
        help="only this event (ce_id); replay takes the rest of its subject along, in order",
    )
    dlq.add_argument("--id", type=int, help="parked message id (discard)")
    dlq.add_argument("--status", default="parked", choices=["parked", "replayed", "discarded"])
    dlq.add_argument("--reason", help="why it is discarded (discard; goes to the log)")
    dlq.add_argument(
        "--by", default=None, help="who discards it (discard; default: the user running this)"
    )
    dlq.add_argument(
        "--json", action="store_true", help="replay and discard answer one JSON object per group"
    )
    rb = sub.add_parser("rebuild", help="rebuild a projection from events and swap it in")
    rb.add_argument("projection", help="projection name")
    rb.add_argument("--keep-old", action="store_true", help="keep the replaced copy's schema")
    docs = sub.add_parser("docs", help="write the event catalogue of this service's topic")
    docs.add_argument("out", type=Path)
    return parser


def service_main(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    argv: Sequence[str] | None = None,
) -> int:
    """Run one command of a service; returns the process exit code."""
    args = _parser(definition, settings).parse_args(argv)
    server = args.command in ("api", "worker")
    configure_logging(
        settings.service_name,
        settings.log_level,
        settings.log_format,
        stream=sys.stdout if server else sys.stderr,
    )
    if args.command in ("api", "worker"):
        import uvicorn  # here: the operator's commands (dlq, rebuild) start faster without it

        app = create_app(settings, definition, with_routes=args.command == "api")
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
        return 0
    if args.command == "docs":
        for path in write_event_docs(
            definition.registry,
            args.out,
            title=definition.title,
            version=definition.version,
            description=definition.description,
        ):
            print(path)
        return 0
    if args.command == "migrate":
        applied = asyncio.run(apply_migrations(settings.database_url, definition.migrations))
        print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
        return 0
    return asyncio.run(_with_runtime(settings, definition, args))


async def _with_runtime(
    settings: ServiceSettings, definition: ServiceDefinition, args: argparse.Namespace
) -> int:
    runtime = await open_runtime(settings, definition)
    try:
        if args.command == "dlq":
            return await _dlq(runtime, args)
        return await _rebuild(runtime, args)
    finally:
        await runtime.pool.close()


def _groups(runtime: Runtime) -> dict[str, Processor]:
    """Every consumer group of the service with the processor that applies its messages."""
    groups = {
        proc.group: proc
        for proc in (processor_for(runtime, r) for r in runtime.definition.reactions)
    }
    namespace = runtime.settings.topic_namespace
    for p in runtime.definition.projections:
        groups[live_group(p, namespace)] = projection_processor(
            runtime.pool, p, live_schema(p), live_group(p, namespace), live=True
        )
    return groups


def _operator() -> str:
    """Who runs the command, for the record of a discard (a container may have no user)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


async def _dlq(runtime: Runtime, args: argparse.Namespace) -> int:
    groups = _groups(runtime)
    if args.group and args.group not in groups:
        print(
            f"unknown group {args.group!r}; groups: {', '.join(groups) or 'none'}", file=sys.stderr
        )
        return 2
    if args.action == "discard" and (args.id is None) == (args.event_id is None):
        print("discard needs --id or --event-id (one of them)", file=sys.stderr)
        return 2
    service = runtime.settings.service_name
    selected = {args.group: groups[args.group]} if args.group else groups
    failed = 0
    for group, processor in selected.items():
        letters = DeadLetters(runtime.pool, group)
        if args.action == "list":
            listed = await letters.list(
                status=args.status, subject=args.subject, event_id=args.event_id
            )
            for parked in listed:
                print(json.dumps({"service": service, "group": group, **describe(parked)}))
        elif args.action == "replay":
            report = await letters.replay(processor, subject=args.subject, event_id=args.event_id)
            failed += report.failed
            if args.json:
                print(json.dumps({"service": service, "group": group, **asdict(report)}))
            else:
                print(
                    f"{group}: replayed {report.replayed}, failed {report.failed}, "
                    f"still parked {report.still_parked}"
                )
        else:
            by = args.by or _operator()
            if args.event_id is not None:
                gone = await letters.discard_event(args.event_id, reason=args.reason, by=by)
            else:
                one = await letters.discard(args.id, reason=args.reason, by=by)
                gone = [one] if one else []
            behind = [
                waiting
                for subject in {p.subject for p in gone if p.subject is not None}
                for waiting in await letters.list(subject=subject)
            ]
            if args.json:
                answer = {
                    "service": service,
                    "group": group,
                    "discarded": [describe(p) for p in gone],
                    "still_parked_behind": len(behind),
                    "by": by,
                    "reason": args.reason,
                }
                print(json.dumps(answer))
            elif args.event_id is not None:
                print(f"{group}: discarded {len(gone)} parked cop(ies) of event {args.event_id}")
            else:
                what = "discarded" if gone else "no parked message with that id"
                print(f"{group}: {what} {args.id}")
            if behind and not args.json:
                print(
                    f"{group}: {len(behind)} later message(s) of the same subject still parked "
                    "behind it: replay them (dlq replay --subject ...)"
                )
    return 1 if failed else 0


async def _rebuild(runtime: Runtime, args: argparse.Namespace) -> int:
    projections = {p.name: p for p in runtime.definition.projections}
    states = runtime.definition.state_rebuilders
    if args.projection in states:
        count = await states[args.projection](
            runtime.pool,
            lambda n: print(f"\rrebuilding {args.projection}: {n} events", end="", flush=True),
        )
        print(f"\nrebuilt {args.projection} from {count} stored events")
        return 0
    if args.projection not in projections:
        names = ", ".join([*projections, *states]) or "none"
        print(f"unknown read model {args.projection!r}; read models: {names}", file=sys.stderr)
        return 2

    def show(progress: RebuildProgress) -> None:
        print(f"\rrebuilding {args.projection}: {progress.line()}", end="", flush=True)

    report = await rebuild(
        runtime.pool,
        runtime.settings.kafka_bootstrap,
        projections[args.projection],
        progress=show,
        keep_old=args.keep_old,
        namespace=runtime.settings.topic_namespace,
    )
    kept = (
        f"; previous copy kept as {report.replaced_schema}"
        if args.keep_old and report.replaced_schema
        else ""
    )
    print(
        f"\nrebuilt {args.projection}: {report.events} events in {report.seconds:.1f}s "
        f"({report.rate:.0f}/s){kept}"
    )
    return 0
