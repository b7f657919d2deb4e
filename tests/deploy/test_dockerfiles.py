"""services/<name>/Dockerfile: parsed by BuildKit's own Dockerfile frontend (no Docker engine
here to build them), then checked against the workspace they build from: every file they copy
exists, every workspace member is there for uv, the service's package, port and command."""

import glob
import json
import re
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
PORTS = {
    "pairing": PairingSettings.model_fields["http_port"].default,
    "meetings": MeetingsSettings.model_fields["http_port"].default,
    "goals": GoalsSettings.model_fields["http_port"].default,
    "notifications": NotificationsSettings.model_fields["http_port"].default,
    "insights": InsightsSettings.model_fields["http_port"].default,
}


@pytest.fixture(scope="module")
def dockerfiles(dockerfilecheck: Path, run_tool: Callable[..., str]) -> dict[str, dict[str, Any]]:
    paths = [f"services/{name}/Dockerfile" for name in PORTS]
    parsed = json.loads(run_tool(dockerfilecheck, *paths))
    return {name: parsed[i] for i, name in enumerate(PORTS)}


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


def test_they_parse_without_warnings(dockerfiles: dict[str, dict[str, Any]]) -> None:
    for name, parsed in dockerfiles.items():
        assert parsed["warnings"] == [], name
        assert [s["name"] for s in parsed["stages"]] == ["build", ""], name


@pytest.mark.parametrize("name", PORTS)
def test_the_build_installs_the_locked_service_from_the_workspace(
    dockerfiles: dict[str, dict[str, Any]], name: str
) -> None:
    build = dockerfiles[name]["stages"][0]
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
    uv = re.search(r'^UV_VERSION="(.+)"$', (ROOT / "kamu").read_text(), re.MULTILINE)
    assert uv
    installs = " ".join(" ".join(c["args"]) for c in _commands(build, "RUN"))
    assert f'"uv=={uv[1]}"' in installs, "the image's uv is the one ./kamu uses"


@pytest.mark.parametrize("name", PORTS)
def test_the_image_runs_the_service_command_as_an_unprivileged_user(
    dockerfiles: dict[str, dict[str, Any]], name: str
) -> None:
    final = dockerfiles[name]["stages"][1]
    (entrypoint,) = _commands(final, "ENTRYPOINT")
    (cmd,) = _commands(final, "CMD")
    assert entrypoint["json"] is True
    assert entrypoint["args"] == ["python", "-m", f"kamu_{name}"]
    assert cmd["json"] is True
    assert cmd["args"] == ["api"]
    env = dict(kv.split("=", 1) for c in _commands(final, "ENV") for kv in c["env"])
    assert env["KAMU_HTTP_PORT"] == str(PORTS[name])
    assert env["KAMU_HTTP_HOST"] == "0.0.0.0"
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


def test_they_differ_only_in_name_and_port() -> None:
    def normalised(name: str) -> str:
        text = (ROOT / "services" / name / "Dockerfile").read_text()
        # Each copies every member's pyproject.toml (checked above), naming every service.
        lines = [ln for ln in text.splitlines() if not re.match(r"COPY services/\w+/pyproject", ln)]
        return "\n".join(lines).replace(name, "SERVICE").replace(str(PORTS[name]), "PORT")

    reference = normalised("pairing")
    for name in PORTS:
        assert normalised(name) == reference, f"services/{name}/Dockerfile drifted from pairing's"
