"""deploy/docker/Dockerfile, every service's image: parsed by BuildKit's own Dockerfile frontend
(no Docker engine here to build it), then, for each service, read as `--build-arg SERVICE=<name>
--build-arg PORT=<port>` would build it and checked against the workspace it builds from: every
file it copies exists, every workspace member is there for uv, the service's package, port and
command."""

import glob
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kamu_goals.settings import GoalsSettings
from kamu_insights.settings import InsightsSettings
from kamu_meetings.settings import MeetingsSettings
from kamu_notifications.settings import NotificationsSettings
from kamu_pairing.settings import PairingSettings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = "deploy/docker/Dockerfile"
PORTS = {
    "pairing": PairingSettings.model_fields["http_port"].default,
    "meetings": MeetingsSettings.model_fields["http_port"].default,
    "goals": GoalsSettings.model_fields["http_port"].default,
    "notifications": NotificationsSettings.model_fields["http_port"].default,
    "insights": InsightsSettings.model_fields["http_port"].default,
}
BUILD_ARGS = ("SERVICE", "PORT")
_REFERENCE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
# Expanded by the builder itself; RUN (shell form) is expanded by its shell, which gets the
# stage's build arguments as environment variables. Exec-form ENTRYPOINT and CMD, and
# HEALTHCHECK, are never expanded at build time.
_EXPANDED = {"COPY", "ENV", "EXPOSE", "LABEL", "USER", "WORKDIR", "RUN"}


@pytest.fixture(scope="module")
def dockerfile(dockerfilecheck: Path, run_tool: Callable[..., str]) -> dict[str, Any]:
    (parsed,) = json.loads(run_tool(dockerfilecheck, DOCKERFILE))
    result: dict[str, Any] = parsed
    return result


def _declared(command: dict[str, Any]) -> list[str]:
    """The names an ARG instruction declares (`ARG A B=1`)."""
    return [word.split("=", 1)[0] for word in command["text"].split()[1:]]


def _uses(command: dict[str, Any]) -> set[str]:
    """The build arguments a command refers to."""
    words = [command["text"], *command.get("args", []), *command.get("env", [])]
    return {a or b for w in words for a, b in _REFERENCE.findall(w)} & set(BUILD_ARGS)


def _build(dockerfile: dict[str, Any], args: dict[str, str]) -> list[dict[str, Any]]:
    """The stages as `docker build` with these build arguments sees them: a reference expands
    to the value only where an ARG in the same stage declared the name before it (an ARG before
    FROM is out of scope after FROM), and to nothing elsewhere, as it does in a real build."""

    def expand(value: Any, scope: set[str]) -> Any:
        if isinstance(value, list):
            return [expand(v, scope) for v in value]
        if not isinstance(value, str):
            return value

        def one(match: re.Match[str]) -> str:
            name = match[1] or match[2]
            if name not in BUILD_ARGS:
                return match[0]  # $PATH and the like: the image's own environment
            return args[name] if name in scope else ""

        return _REFERENCE.sub(one, value)

    stages = []
    for stage in dockerfile["stages"]:
        scope: set[str] = set()
        commands = []
        for command in stage["commands"]:
            if command["name"] == "ARG":
                scope |= set(_declared(command))
            if command["name"] in _EXPANDED:
                command = {k: expand(v, scope) for k, v in command.items()}
            commands.append(command)
        stages.append({**stage, "commands": commands})
    return stages


def _for(dockerfile: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return _build(dockerfile, {"SERVICE": name, "PORT": str(PORTS[name])})


def _commands(stage: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [c for c in stage["commands"] if c["name"] == name]


def _workspace_members() -> list[str]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members: list[str] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        members += sorted(
            str(Path(p).relative_to(ROOT)) for p in glob.glob(str(ROOT / pattern), recursive=True)
        )
    return members


def test_it_parses_without_warnings(dockerfile: dict[str, Any]) -> None:
    assert dockerfile["warnings"] == []
    assert [s["name"] for s in dockerfile["stages"]] == ["build", ""]
    assert dockerfile["meta_args"] == ["PYTHON_IMAGE"]
    assert [s["base"] for s in dockerfile["stages"]] == ["${PYTHON_IMAGE}"] * 2


def test_it_is_the_only_dockerfile() -> None:
    found = [p.relative_to(ROOT).as_posix() for p in ROOT.glob("services/*/*Dockerfile*")]
    assert found == [], "every service is built from deploy/docker/Dockerfile"


def test_each_stage_declares_the_build_arguments_it_uses(dockerfile: dict[str, Any]) -> None:
    for stage in dockerfile["stages"]:
        declared: set[str] = set()
        for command in stage["commands"]:
            if command["name"] == "ARG":
                declared |= set(_declared(command))
                continue
            missing = _uses(command) - declared
            assert not missing, f"{command['text']}: no ARG {missing} before it in this stage"
            if command["name"] not in _EXPANDED:
                assert not _uses(command), f"{command['text']}: nothing expands it"
        arguments = [w for c in _commands(stage, "ARG") for w in c["text"].split()[1:]]
        assert sorted(arguments) == sorted(BUILD_ARGS), "no defaults: a build names both"


def test_what_every_service_shares_comes_before_the_service_is_named(
    dockerfile: dict[str, Any],
) -> None:
    """Every RUN after an ARG depends on its value: uv and the workspace's pyproject.toml files
    are one cached layer chain for all five images; the service is named after them."""
    build = dockerfile["stages"][0]["commands"]
    first_arg = next(i for i, c in enumerate(build) if c["name"] == "ARG")
    before = build[:first_arg]
    assert any('"uv==' in " ".join(c.get("args", [])) for c in before if c["name"] == "RUN")
    sources = [s for c in before if c["name"] == "COPY" for s in c["sources"]]
    for member in _workspace_members():
        assert f"{member}/pyproject.toml" in sources
    assert "uv.lock" in sources
    assert not any(_uses(c) for c in before)
    assert not any("uv sync" in " ".join(c.get("args", [])) for c in before)


@pytest.mark.parametrize("name", PORTS)
def test_the_build_installs_the_locked_service_from_the_workspace(
    dockerfile: dict[str, Any], name: str
) -> None:
    build = _for(dockerfile, name)[0]
    copied = [source for c in _commands(build, "COPY") for source in c["sources"]]
    for source in copied:
        assert (ROOT / source).exists(), f"{name}: COPY {source}: no such file"
    for member in _workspace_members():
        assert f"{member}/pyproject.toml" in copied, f"{name}: uv needs {member}/pyproject.toml"
    assert {"pyproject.toml", "uv.lock", "shared/src", f"services/{name}/src"} <= set(copied)
    code = [s for s in copied if s.startswith("services/") and s.endswith("/src")]
    assert code == [f"services/{name}/src"], "only this service's code"

    syncs = [" ".join(c["args"]) for c in _commands(build, "RUN") if "uv sync" in c["args"][0]]
    assert len(syncs) == 2
    for sync in syncs:
        assert f"--package kamu-{name} " in f"{sync} "
        assert "--frozen" in sync
        assert "--no-dev" in sync
        assert "--no-editable" in sync
    assert "--no-install-workspace" in syncs[0]
    uv = re.search(r'^UV_VERSION="(.+)"$', (ROOT / "kamu").read_text(), re.MULTILINE)
    assert uv
    installs = " ".join(" ".join(c["args"]) for c in _commands(build, "RUN"))
    assert f'"uv=={uv[1]}"' in installs, "the image's uv is the one ./kamu uses"


@pytest.mark.parametrize("name", PORTS)
def test_the_image_runs_the_service_command_as_an_unprivileged_user(
    dockerfile: dict[str, Any], name: str, fake_python: Path
) -> None:
    final = _for(dockerfile, name)[1]
    (entrypoint,) = _commands(final, "ENTRYPOINT")
    (cmd,) = _commands(final, "CMD")
    assert entrypoint["json"] is True
    assert cmd["json"] is True
    assert cmd["args"] == ["api"]
    env = dict(kv.split("=", 1) for c in _commands(final, "ENV") for kv in c["env"])
    assert env["KAMU_SERVICE_MODULE"] == f"kamu_{name}"
    assert env["KAMU_HTTP_PORT"] == str(PORTS[name])
    assert env["KAMU_HTTP_HOST"] == "0.0.0.0"
    # What the container runs: the image's command line, then CMD or the run's arguments.
    for arguments in (cmd["args"], ["worker"], ["dlq", "list"]):
        result = subprocess.run(
            [*entrypoint["args"], *arguments],
            env={**env, "PATH": f"{fake_python}:{os.environ['PATH']}"},  # not /app/.venv/bin
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip() == " ".join(["python", "-m", f"kamu_{name}", *arguments])
    assert entrypoint["args"][0:2] == ["/bin/sh", "-c"]
    assert entrypoint["args"][2].startswith("exec python -m "), "python replaces the shell"
    (expose,) = _commands(final, "EXPOSE")
    assert expose["ports"] == [str(PORTS[name])]
    (user,) = _commands(final, "USER")
    assert user["text"] == "USER 10001:10001"
    (copy,) = _commands(final, "COPY")
    assert copy["from"] == "build"
    assert copy["sources"] == ["/app/.venv"]
    (health,) = _commands(final, "HEALTHCHECK")
    assert health["args"][:3] == ["CMD", "python", "-c"]
    assert "/healthz" in health["args"][3]
    (label,) = _commands(final, "LABEL")
    assert f'org.opencontainers.image.title="kamu-{name}"' in label["text"]


def _checks(dockerfile: dict[str, Any]) -> list[str]:
    """The build stage's RUN lines that only check SERVICE and PORT (neither uv nor pip)."""
    runs = [" ".join(c["args"]) for c in _commands(dockerfile["stages"][0], "RUN")]
    return [r for r in runs if _uses({"text": r}) and "uv sync" not in r and "pip " not in r]


@pytest.mark.parametrize(
    ("service", "port", "builds"),
    [
        *[(name, str(port), True) for name, port in PORTS.items()],
        ("", "8001", False),  # no --build-arg SERVICE
        ("nosuch", "8001", False),
        ("goals", "", False),  # no --build-arg PORT
        ("goals", "8001", False),  # pairing's port
    ],
)
def test_a_build_stops_unless_service_and_port_fit(
    dockerfile: dict[str, Any], service: str, port: str, builds: bool
) -> None:
    """The checks run as the builder runs them: with the build arguments in the environment,
    from the workspace root (/src), with this test run's Python in the image's virtualenv's
    place (it has the services installed just the same)."""
    checks = _checks(dockerfile)
    assert len(checks) == 2
    results = [
        subprocess.run(
            ["/bin/sh", "-c", check.replace("/app/.venv/bin/python", sys.executable)],
            cwd=ROOT,
            env={"PATH": os.environ["PATH"], "SERVICE": service, "PORT": port},
            capture_output=True,
            text=True,
            check=False,
        )
        for check in checks
    ]
    if builds:
        assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    else:
        assert results[0].returncode != 0 or results[1].returncode != 0
        assert any("PORT" in r.stderr for r in results)
