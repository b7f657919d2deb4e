"""What the deploy/ tests share: the Go tools they check with, and what those tools make of
deploy/compose.yaml, deploy/k8s and deploy/docker/Dockerfile.

The tools come from deploy/tools (one Go module, versions pinned by its go.mod and go.sum):
``composecheck`` (compose-go, the loader inside ``docker compose``), ``dockerfilecheck``
(BuildKit's Dockerfile parser), ``kustomize`` and ``promtool`` (Prometheus's own checker, for
deploy/prometheus and the dashboards' queries). No Docker engine and no cluster are needed,
only Go. :mod:`kamu_devstack.gotools` builds them once per change of deploy/tools: ``./kamu
test`` before pytest starts, and this file after collection when pytest is run directly (a
cold build takes minutes, past any test's time limit, so never inside a test or fixture).
The fixtures only find the binaries.
"""

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kamu_devstack.errors import InfraError
from kamu_devstack.gotools import DeployTools, ensure_tools, find_tools

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
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


def _terminal(config: pytest.Config) -> Callable[[str], None]:
    """Lines straight to the terminal, past output capturing. An xdist worker's own terminal
    output is never shown, so a worker writes to its standard error, which is."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    worker = getattr(config, "workerinput", {}).get("workerid")

    def say(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            if worker is None and reporter is not None:
                reporter.write_line(line)
            else:
                print(f"[{worker}] {line}", file=sys.stderr, flush=True)

    return say


def pytest_collection_finish(session: pytest.Session) -> None:
    """When pytest runs directly (not through ``./kamu test``, which builds them first) and
    deploy tests are selected, build the tools now, after collection: outside every test's
    time limit, with progress on the terminal. With pytest-xdist each worker collects; the
    first builds, the other waits on the build's lock and then finds the binaries."""
    if find_tools() is not None:
        return
    if not any(HERE in Path(item.path).parents for item in session.items):
        return
    say = _terminal(session.config)
    say("kamu: the deploy tests' Go tools are not built yet: building them before the tests")
    try:
        ensure_tools(say)
    except InfraError as exc:  # the tests that need the tools say why they cannot run
        say(f"kamu: {exc}")


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
    found = find_tools()
    if found is None:
        pytest.fail(
            "the deploy tests' Go tools are not built for the current deploy/tools (building "
            "them after collection failed or was interrupted: see above). Build them with "
            "`./kamu test` or `.venv/bin/python -m kamu_devstack.gotools` (needs Go 1.26.7+)",
            pytrace=False,
        )
    return found


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
