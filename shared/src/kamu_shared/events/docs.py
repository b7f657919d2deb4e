"""Generate a service's event catalogue from its registry, so docs/ is never hand-written::

    python -m kamu_shared.events.docs kamu_example.events:registry docs/events

writes ``docs/events/<service>/`` (``asyncapi.yaml``, ``schemas/``, ``README.md``). Importing the
module must not connect to anything, as for every Kamu module.
"""

import argparse
import importlib
import importlib.metadata
import sys
from collections.abc import Sequence
from pathlib import Path

from kamu_shared.events.registry import EventRegistry
from kamu_shared.events.schema import write_event_docs


def load_registry(spec: str) -> EventRegistry:
    """The EventRegistry named by ``module:attribute``; raises ValueError saying what is wrong."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{spec!r} is not module:attribute, e.g. kamu_example.events:registry")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r}: {exc}") from exc
    registry = getattr(module, attribute, None)
    if not isinstance(registry, EventRegistry):
        raise ValueError(f"{spec} is {registry!r}, not an EventRegistry")
    return registry


def distribution_version(module_name: str) -> str:
    """The installed version of the distribution providing ``module_name`` ("0.0.0" if none)."""
    top = module_name.split(".")[0]
    for dist in importlib.metadata.packages_distributions().get(top, []):
        return importlib.metadata.version(dist)
    return "0.0.0"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the event docs of one registry; prints the written paths."""
    parser = argparse.ArgumentParser(
        prog="python -m kamu_shared.events.docs",
        description="Write a service's event catalogue (AsyncAPI, JSON schemas, README.md).",
    )
    parser.add_argument("registry", help="module:attribute of an EventRegistry")
    parser.add_argument("out_dir", type=Path, help="catalogue root, e.g. docs/events")
    parser.add_argument("--title", help="AsyncAPI title (default: 'Kamu <service> events')")
    parser.add_argument(
        "--api-version", help="AsyncAPI info.version (default: the distribution's version)"
    )
    parser.add_argument("--description", default="", help="AsyncAPI info.description")
    args = parser.parse_args(argv)
    try:
        registry = load_registry(args.registry)
    except ValueError as exc:
        parser.error(str(exc))
    paths = write_event_docs(
        registry,
        args.out_dir,
        title=args.title or f"Kamu {registry.service} events",
        version=args.api_version or distribution_version(args.registry.partition(":")[0]),
        description=args.description,
    )
    sys.stdout.write("".join(f"{path}\n" for path in paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
