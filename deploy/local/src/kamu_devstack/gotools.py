"""The Go checkers of the deploy tests, built from deploy/tools with the machine's Go.

deploy/tools is one Go module (versions pinned by its go.mod and go.sum) that makes
``composecheck`` (compose-go, the loader inside ``docker compose``), ``dockerfilecheck``
(BuildKit's Dockerfile parser), ``kustomize``, ``promtool`` (Prometheus's checker) and
``vegeta`` (the benchmarks' compiled open-loop HTTP load). The
binaries go to ``.cache/tools/bin`` under names that carry a hash of the module's sources, so
a build happens once per change of deploy/tools; a file lock keeps two processes (two
pytest-xdist workers, two checkouts' runs) from building at once.

A cold build (empty module and build caches) downloads about 220 modules and compiles about
1,300 packages: about 9 minutes on two idle cores, far past a test's time limit. ``./kamu test``
therefore builds before pytest starts (:func:`ensure_tools`), in two steps that each report
progress every 15 s: ``go mod download`` (modules in the cache out of those go.mod requires),
then ``go build -v`` (packages compiled so far). A warm run finds the binaries and does nothing.
By hand: ``python -m kamu_devstack.gotools``.
"""

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kamu_devstack.errors import InfraError
from kamu_devstack.paths import cache_dir, project_root
from kamu_devstack.processes import run
from kamu_devstack.watched import Say, minutes, run_watched

# Seconds for download and build together (KAMU_GO_BUILD_TIMEOUT overrides): a cold build took
# about 520 s on two idle cores; a build on two cores shared with a load of 20 took 25 min.
BUILD_TIMEOUT = 1800.0
PACKAGES = {
    "composecheck": "./composecheck",
    "dockerfilecheck": "./dockerfilecheck",
    "kustomize": "sigs.k8s.io/kustomize/kustomize/v5",
    "promtool": "github.com/prometheus/prometheus/cmd/promtool",
    "vegeta": "github.com/tsenart/vegeta/v12",
}
# remove_all_sd leaves Prometheus's cloud service discoveries (and their SDKs) out of promtool,
# enable_dns_sd keeps the one deploy/prometheus/prometheus.yml uses: a build of minutes, not tens.
BUILD_FLAGS = ("-ldflags=-s -w", "-tags=remove_all_sd,enable_dns_sd")


@dataclass(frozen=True)
class DeployTools:
    composecheck: Path
    dockerfilecheck: Path
    kustomize: Path
    promtool: Path
    vegeta: Path


def source_dir() -> Path:
    return project_root() / "deploy" / "tools"


def bin_dir() -> Path:
    return cache_dir() / "tools" / "bin"


def sources_hash() -> str:
    """A hash of what the binaries are built from: the module's Go files, go.mod, go.sum and
    the build flags."""
    source = source_dir()
    digest = hashlib.sha256(" ".join(BUILD_FLAGS).encode())
    files = sorted(
        p
        for p in source.rglob("*")
        if p.is_file() and (p.suffix == ".go" or p.name in ("go.mod", "go.sum"))
    )
    for path in files:
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _paths() -> dict[str, Path]:
    key = sources_hash()
    return {name: bin_dir() / f"{name}-{key}" for name in PACKAGES}


def find_tools() -> DeployTools | None:
    """The binaries for the current sources, or ``None`` when they are not built yet."""
    paths = _paths()
    if all(os.access(p, os.X_OK) for p in paths.values()):
        return DeployTools(**paths)
    return None


def go_binary() -> str:
    """The ``go`` command, or InfraError saying what to install."""
    found = shutil.which("go") or next(
        (p for p in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise InfraError(
            "the deploy tests check deploy/ with Go tools built from deploy/tools, and no `go` "
            "was found on PATH or in /usr/local/go/bin: install Go 1.26.7 or newer (from "
            "https://go.dev/dl/, or `apt-get install golang-go` where that is new enough)"
        )
    return found


def go_env() -> dict[str, str]:
    """The environment of every go command here: no cgo, go.sum as committed, no VCS stamp."""
    env = {
        **os.environ,
        "CGO_ENABLED": "0",
        # go.sum is committed: nothing may change it; no VCS stamping (a clone may lack .git).
        "GOFLAGS": f"{os.environ.get('GOFLAGS', '')} -mod=readonly -buildvcs=false".strip(),
    }
    if not os.environ.get("HOME"):  # Go keeps its caches under HOME unless told otherwise
        env.setdefault("GOCACHE", str(cache_dir() / "go" / "build"))
        env.setdefault("GOPATH", str(cache_dir() / "go" / "path"))
    return env


def build_timeout() -> float:
    """The build's limit in seconds: ``KAMU_GO_BUILD_TIMEOUT``, else :data:`BUILD_TIMEOUT`."""
    text = os.environ.get("KAMU_GO_BUILD_TIMEOUT")
    try:
        return float(text) if text else BUILD_TIMEOUT
    except ValueError:
        raise InfraError(f"KAMU_GO_BUILD_TIMEOUT must be seconds, not {text!r}") from None


def ensure_tools(say: Say, timeout: float | None = None) -> DeployTools:
    """The binaries, built first if the current sources have none; ``say`` gets progress.
    InfraError when Go is missing, the build fails or it runs past ``timeout`` seconds
    (default :func:`build_timeout`; waiting for another process's build included)."""
    if found := find_tools():
        return found
    timeout = build_timeout() if timeout is None else timeout
    deadline = time.monotonic() + timeout
    bin_dir().mkdir(parents=True, exist_ok=True)
    with (bin_dir() / ".deploy-tools.lock").open("w") as lock:  # released when closed
        _lock(lock.fileno(), say, deadline)
        if found := find_tools():  # built by the process we waited for
            return found
        started = time.monotonic()
        go, env = go_binary(), go_env()
        say(
            f"go: building the deploy checkers ({', '.join(PACKAGES)}) from deploy/tools with "
            f"{_version(go, env)}: once per change of deploy/tools; from empty Go caches about "
            f"10 minutes on two cores (limit {minutes(timeout)})"
        )
        _download(go, env, say, deadline)
        _build(go, env, say, deadline)
        say(f"go: deploy checkers built in {minutes(time.monotonic() - started)}")
    found = find_tools()
    assert found is not None
    return found


def _lock(fd: int, say: Say, deadline: float) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        say("go: another process is building the deploy checkers; waiting for it")
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise InfraError(
                    "waited past the time limit for another process building the deploy "
                    f"checkers (lock {bin_dir() / '.deploy-tools.lock'})"
                ) from None
            time.sleep(1.0)


def _version(go: str, env: dict[str, str]) -> str:
    return run([go, "version"], "go version", env=env).split(" ")[2]


def _escape(module_path: str) -> str:
    """A module path as the module cache spells it (upper case letters as ``!`` + lower)."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in module_path)


def _download(go: str, env: dict[str, str], say: Say, deadline: float) -> None:
    """``go mod download``, with how many of the modules go.mod requires are in the cache."""
    source = source_dir()
    required = json.loads(run([go, "mod", "edit", "-json"], "go mod edit", cwd=source, env=env))[
        "Require"
    ]
    cache = Path(run([go, "env", "GOMODCACHE"], "go env", cwd=source, env=env).strip())
    zips = [
        cache / "cache" / "download" / _escape(m["Path"]) / "@v" / f"{m['Version']}.zip"
        for m in required
    ]

    def in_cache() -> int:
        return sum(1 for z in zips if z.exists())

    before = in_cache()
    if before == len(zips):
        say(f"go: all {len(zips)} modules are in the module cache ({cache})")
        return
    say(f"go: downloading {len(zips) - before} of {len(zips)} modules into {cache}")
    started = time.monotonic()
    run_watched(
        [go, "mod", "download"],
        what="go: downloading modules",
        say=say,
        deadline=deadline,
        status=lambda: f"{in_cache()}/{len(zips)} in the cache",
        cwd=source,
        env=env,
        hint="is the Go module proxy reachable? `go env GOPROXY` names it",
    )
    say(
        f"go: {in_cache()}/{len(zips)} modules in the cache "
        f"(downloaded in {minutes(time.monotonic() - started)})"
    )


def _build(go: str, env: dict[str, str], say: Say, deadline: float) -> None:
    """``go build -v`` (one line per package compiled, counted for progress), into a
    temporary folder, then moved into place; older builds of the same tools removed."""
    source = source_dir()
    paths = _paths()
    listed = run(
        [go, "list", "-deps", *BUILD_FLAGS[1:], *PACKAGES.values()],
        "go list (the packages to build)",
        cwd=source,
        env=env,
    )
    total = len(listed.split())
    say(f"go: compiling up to {total} packages (fewer when Go's build cache has some)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=bin_dir()) as tmp:
        log = Path(tmp) / "build.log"

        def compiled() -> str:
            try:
                done = sum(1 for line in log.read_text().splitlines() if line and " " not in line)
            except OSError:
                done = 0
            return f"{done} of up to {total} packages compiled"

        run_watched(
            [go, "build", "-v", *BUILD_FLAGS, "-o", f"{tmp}/", *PACKAGES.values()],
            what="go: building",
            say=say,
            deadline=deadline,
            status=compiled,
            cwd=source,
            env=env,
            log=log,
            hint="deploy/tools/README.md says which Go it needs",
        )
        say(f"go: built, {compiled()}, in {minutes(time.monotonic() - started)}")
        for name, path in paths.items():
            os.replace(Path(tmp) / name, path)
    for name, path in paths.items():
        for stale in bin_dir().glob(f"{name}-*"):
            if stale != path:
                stale.unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kamu_devstack.gotools", description="build the deploy tests' Go tools"
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds (KAMU_GO_BUILD_TIMEOUT, 1800)"
    )
    args = parser.parse_args(argv)
    try:
        tools = ensure_tools(lambda line: print(line, flush=True), args.timeout)
    except InfraError as exc:
        print(f"kamu: {exc}", file=sys.stderr)
        return 2
    for name, path in vars(tools).items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
