"""Keeps one service process running on one machine, as an orchestrator does for a pod.

``python -m kamu_devstack.keeper --pidfile FILE -- python -m kamu_goals api ...`` starts the
service as its child in the keeper's own process group, writes the child's pid to ``FILE``, and
starts it again (with growing pauses) whenever it ends without being asked: a crash, an
out-of-memory kill, a ``kill -9``. SIGTERM or SIGINT to the group stops the child and the keeper.
A first run that exits with an error at once is a start that cannot work (a port taken, a bad
setting): the keeper then ends with the child's exit code, so the person starting the stack sees
it. A signal (``kill -9``) is a crash at any time, and the service starts again.
"""

import argparse
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

FIRST_RUN_GRACE = 10.0  # seconds: a first run ending sooner is a failed start, not a crash
BACKOFF_INITIAL, BACKOFF_MAX = 0.5, 10.0
HEALTHY_AFTER = 60.0  # seconds of running that reset the pause to its initial length


def _say(line: str) -> None:
    print(f"kamu-keeper: {line}", flush=True)


def keep(argv: Sequence[str], pidfile: Path) -> int:
    stopping = threading.Event()  # set from the signal handler
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    delay, first = BACKOFF_INITIAL, True
    while not stopping.is_set():
        started = time.monotonic()
        child = subprocess.Popen(list(argv))
        pidfile.write_text(f"{child.pid}\n")
        code = child.wait()
        ran = time.monotonic() - started
        if stopping.is_set():
            return 0
        if first and ran < FIRST_RUN_GRACE and code > 0:  # exited by itself, not killed
            _say(f"the service failed to start (exit {code}); giving up")
            return code
        first = False
        delay = BACKOFF_INITIAL if ran > HEALTHY_AFTER else delay
        _say(f"the service ended (exit {code}) after {ran:.0f}s; starting it in {delay:g}s")
        stopping.wait(delay)
        delay = min(delay * 2, BACKOFF_MAX)
    return 0


def main(args: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kamu-keeper", description=__doc__)
    parser.add_argument("--pidfile", type=Path, required=True, help="where the child's pid goes")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the service's command")
    parsed = parser.parse_args(args)
    command = parsed.command[1:] if parsed.command[:1] == ["--"] else parsed.command
    if not command:
        parser.error("give the service's command after --")
    return keep(command, parsed.pidfile)


if __name__ == "__main__":
    sys.exit(main())
