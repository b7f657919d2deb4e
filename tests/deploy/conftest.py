"""What the deploy/ tests share: the Go tools they check with, built once per machine, and what
those tools make of deploy/compose.yaml, deploy/k8s and deploy/docker/Dockerfile.

The tools come from deploy/tools (one Go module, versions pinned by its go.mod and go.sum):
``composecheck`` (compose-go, the loader inside ``docker compose``), ``dockerfilecheck``
(BuildKit's Dockerfile parser), ``kustomize`` and ``promtool`` (Prometheus's own checker, for
deploy/prometheus and the dashboards' queries). No Docker engine and no cluster are needed,
only Go. The binaries go to ``.cache/tools/bin`` under a name that carries a hash of the tools'
sources, so a build happens once per change of deploy/tools; a file lock keeps two pytest-xdist
workers from building at the same time.
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLS_SOURCE = ROOT / "deploy" / "tools"
BIN = ROOT / ".cache" / "tools" / "bin"
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
K8S_DIR = ROOT / "deploy" / "k8s"
SERVICES = ("pairing", "meetings", "goals", "notifications", "insights")
# The environment variables that carry secrets, and which services read each.
SECRETS: dict[str, tuple[str, ...]] = {
    "KAMU_JWT_SECRET": SERVICES,
    "KAMU_DATABASE_URL": SERVICES,
    "KAMU_CALENDAR_FEED_SECRET": ("meetings",),
    "KAMU_SMTP_PASSWORD": ("notifications",),
    "KAMU_WEBHOOK_SIGNING_SECRET": ("notifications",),
    "KAMU_SLACK_WEBHOOK_URL": ("notifications",),
    "KAMU_TEAMS_WEBHOOK_URL": ("notifications",),
}
_BUILD_TIMEOUT = 900  # seconds; a cold build (nothing downloaded or cached yet): a few minutes


@dataclass(frozen=True)
class DeployTools:
    composecheck: Path
    dockerfilecheck: Path
    kustomize: Path
    promtool: Path


_PACKAGES = {
    "composecheck": "./composecheck",
    "dockerfilecheck": "./dockerfilecheck",
    "kustomize": "sigs.k8s.io/kustomize/kustomize/v5",
    "promtool": "github.com/prometheus/prometheus/cmd/promtool",
}


def _go() -> str:
    found = shutil.which("go") or next(
        (p for p in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise RuntimeError(
            "the deploy tests build their checkers with Go 1.26 or newer, and no `go` was found "
            "on PATH or in /usr/local/go/bin: install Go (for example apt-get install golang-go "
            "where that is 1.26+) and run the tests again"
        )
    return found


# remove_all_sd leaves Prometheus's cloud service discoveries (and their SDKs) out of promtool,
# enable_dns_sd keeps the one deploy/prometheus/prometheus.yml uses: a build of minutes, not tens.
_BUILD = ("build", "-ldflags=-s -w", "-tags=remove_all_sd,enable_dns_sd")


def _sources_hash() -> str:
    digest = hashlib.sha256(" ".join(_BUILD).encode())
    files = sorted(
        p
        for p in TOOLS_SOURCE.rglob("*")
        if p.is_file() and (p.suffix == ".go" or p.name in ("go.mod", "go.sum"))
    )
    for path in files:
        digest.update(str(path.relative_to(TOOLS_SOURCE)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def build_tools() -> DeployTools:
    """The binaries for the current deploy/tools sources; built only when missing."""
    key = _sources_hash()
    paths = {name: BIN / f"{name}-{key}" for name in _PACKAGES}
    if all(p.exists() for p in paths.values()):
        return DeployTools(**paths)
    BIN.mkdir(parents=True, exist_ok=True)
    with (BIN / ".deploy-tools.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not all(p.exists() for p in paths.values()):  # another worker may have built them
            _build(paths)
    return DeployTools(**paths)


def _build(paths: dict[str, Path]) -> None:
    env = {
        **os.environ,
        "CGO_ENABLED": "0",
        # go.sum is committed: nothing may change it; no VCS stamping (a clone may lack .git).
        "GOFLAGS": f"{os.environ.get('GOFLAGS', '')} -mod=readonly -buildvcs=false",
    }
    if not os.environ.get("HOME"):  # Go keeps its caches under HOME unless told otherwise
        env.setdefault("GOCACHE", str(ROOT / ".cache" / "go" / "build"))
        env.setdefault("GOPATH", str(ROOT / ".cache" / "go" / "path"))
    with tempfile.TemporaryDirectory(dir=BIN) as tmp:
        result = subprocess.run(
            [_go(), *_BUILD, "-o", f"{tmp}/", *_PACKAGES.values()],
            cwd=TOOLS_SOURCE,
            env=env,
            capture_output=True,
            text=True,
            timeout=_BUILD_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"building deploy/tools failed:\n{result.stderr}")
        for name, path in paths.items():
            os.replace(Path(tmp) / name, path)
    for name, path in paths.items():  # older builds of the same tool
        for stale in BIN.glob(f"{name}-*"):
            if stale != path:
                stale.unlink(missing_ok=True)


def _run_tool(*args: str | Path) -> str:
    """A tool's standard output; its error output in the failure when it exits non-zero."""
    result = subprocess.run(
        [str(a) for a in args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"{Path(args[0]).name} failed:\n{result.stderr}")
    return result.stdout


@pytest.fixture(scope="session")
def deploy_tools() -> DeployTools:
    return build_tools()


@pytest.fixture(scope="session")
def composecheck(deploy_tools: DeployTools) -> Path:
    return deploy_tools.composecheck


@pytest.fixture(scope="session")
def dockerfilecheck(deploy_tools: DeployTools) -> Path:
    return deploy_tools.dockerfilecheck


@pytest.fixture(scope="session")
def promtool(deploy_tools: DeployTools) -> Path:
    return deploy_tools.promtool


@pytest.fixture(scope="session")
def secret_readers() -> dict[str, tuple[str, ...]]:
    """Each environment variable that carries a secret, and the services that read it."""
    return SECRETS


@pytest.fixture(scope="session")
def run_tool() -> Callable[..., str]:
    """Runs a tool from the repository root; returns its output, fails with its errors."""
    return _run_tool


@pytest.fixture(scope="session")
def compose_model(deploy_tools: DeployTools) -> dict[str, Any]:
    """deploy/compose.yaml as a fresh clone loads it: no secrets file, no environment."""
    model: dict[str, Any] = json.loads(_run_tool(deploy_tools.composecheck, COMPOSE_FILE))
    return model


@pytest.fixture(scope="session")
def k8s_objects(deploy_tools: DeployTools) -> list[dict[str, Any]]:
    """Every object `kubectl apply -k deploy/k8s` would create."""
    rendered = _run_tool(deploy_tools.kustomize, "build", K8S_DIR)
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    """A folder with a `python` that only prints its arguments, to put first on PATH."""
    script = tmp_path / "python"
    script.write_text('#!/bin/sh\necho "python $*"\n')
    script.chmod(0o755)
    return tmp_path
