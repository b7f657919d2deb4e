"""The demo on a running stack: which story (kept in ``demo.json`` in the state folder), the
load with its progress display, and the summary.

The story's anchor date is fixed at the first load, so a later load (``./kamu demo``, or an
``up`` after an interrupted one) plans exactly the same commands and changes nothing.
"""

import asyncio
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kamu_devstack.demo.load import Loaded, load
from kamu_devstack.demo.story import build
from kamu_devstack.errors import InfraError

DEFAULT_SIZE = 300


def _record(state_dir: Path) -> dict[str, Any]:
    path = state_dir / "demo.json"
    return json.loads(path.read_text()) if path.exists() else {}


def load_demo(
    state_dir: Path,
    urls: Mapping[str, str],
    secret: str,
    say: Callable[[str], None],
    *,
    catcher_url: str | None = None,
    size: int = DEFAULT_SIZE,
    again: bool = False,
) -> Loaded | None:
    """Load the demo unless it already was (``again``: load it anyway, changing nothing)."""
    record = _record(state_dir)
    if record.get("loaded_at") and not again:
        say(f"demo data: loaded on {record['loaded_at'][:16]} ({record['size']} people)")
        return None
    if record and record.get("size") != size:
        raise InfraError(
            f"the demo here was made for {record.get('size')} people, not {size}; load it at "
            f"that size (`./kamu demo` does by default), or start afresh with "
            f"`./kamu down --purge`"
        )
    anchor = date.fromisoformat(record["anchor"]) if record else datetime.now(UTC).date()
    (state_dir / "demo.json").write_text(json.dumps({"anchor": anchor.isoformat(), "size": size}))
    story = build(size, anchor)
    console = Console()
    columns = (
        TextColumn("  {task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("demo data", total=story.steps())

        def phase(name: str) -> None:
            progress.update(task, description=name)
            if not console.is_terminal:
                say(f"  demo data: {name} ...")

        loaded = asyncio.run(
            load(
                story,
                urls,
                secret,
                catcher_url=catcher_url,
                advance=lambda: progress.advance(task),
                phase=phase,
            )
        )
        progress.update(task, description="demo data loaded")
    (state_dir / "demo.json").write_text(
        json.dumps(
            {
                "anchor": anchor.isoformat(),
                "size": size,
                "loaded_at": datetime.now(UTC).isoformat(),
                "summary": loaded.line(),
            }
        )
    )
    say(f"demo data: {loaded.line()}")
    return loaded
