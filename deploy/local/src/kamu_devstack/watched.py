"""Long commands (a Maven resolve, a Go build) run with a time limit and a line of progress
every few seconds, so a log shows that they move and a limit ends them cleanly.

The command runs in a session of its own with its output in a temporary file (never a pipe
that could fill up); at the limit, or on Ctrl-C, its whole process group is stopped.
"""

import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from kamu_devstack.errors import InfraError
from kamu_devstack.processes import stop_group

Say = Callable[[str], None]
PROGRESS_EVERY = 15.0  # seconds between progress lines


def minutes(seconds: float) -> str:
    """``45 s`` or ``3 min 20 s``: elapsed time for a progress line."""
    whole = int(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


def run_watched(
    argv: Sequence[str],
    *,
    what: str,
    say: Say,
    deadline: float,
    status: Callable[[], str] | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    hint: str = "",
    every: float = PROGRESS_EVERY,
) -> str:
    """Run ``argv`` to completion and return its output (stdout and stderr together).

    Every ``every`` seconds ``say`` gets ``<what>: <status()>, <elapsed>`` (just the elapsed
    time without ``status``). Past ``deadline`` (a ``time.monotonic()`` value) the command is
    stopped and InfraError names the limit; a non-zero exit raises InfraError with the end
    of its output. ``log``: a file to keep the output in (``status`` may read it as it grows);
    a temporary file otherwise. ``hint``: what to check, added to a failure's message."""
    advice = f" ({hint})" if hint else ""
    started = time.monotonic()
    with log.open("w+b") if log else tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise InfraError(
                        f"{what}: stopped at its time limit after "
                        f"{minutes(time.monotonic() - started)}{advice}:\n{_tail(output)}"
                    )
                try:
                    proc.wait(timeout=min(every, left))
                    break
                except subprocess.TimeoutExpired:
                    progress = status() if status else "still running"
                    say(f"{what}: {progress}, {minutes(time.monotonic() - started)}")
        finally:
            if proc.poll() is None:
                stop_group(proc.pid, timeout=10)
        if proc.returncode != 0:
            raise InfraError(f"{what} failed (exit {proc.returncode}){advice}:\n{_tail(output)}")
        output.seek(0)
        return output.read().decode(errors="replace")


def _tail(output: IO[bytes], lines: int = 30) -> str:
    """The last lines a command wrote."""
    output.seek(0)
    text = output.read().decode(errors="replace")
    return "\n".join(text.strip().splitlines()[-lines:])
