"""deploy/compose.yaml: loaded by compose-go (what `docker compose config` runs), then held to
its promises: API and workers per service, migrations first, health-gated start-up, secrets
only from the git-ignored env file, every published port on loopback."""

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kamu_goals.settings import GoalsSettings
from kamu_insights.settings import InsightsSettings
from kamu_meetings.settings import MeetingsSettings
from kamu_notifications.settings import NotificationsSettings
from kamu_pairing.settings import PairingSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
DOCKERFILE = "deploy/docker/Dockerfile"  # every service's image; build args pick which
SERVICES = ("pairing", "meetings", "goals", "notifications", "insights")
PORTS = {
    "pairing": PairingSettings.model_fields["http_port"].default,
    "meetings": MeetingsSettings.model_fields["http_port"].default,
    "goals": GoalsSettings.model_fields["http_port"].default,
    "notifications": NotificationsSettings.model_fields["http_port"].default,
    "insights": InsightsSettings.model_fields["http_port"].default,
}
EXAMPLE = ROOT / "deploy" / "compose" / "secrets.env.example"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|WEBHOOK_URL")


def _services(model: dict[str, Any]) -> dict[str, Any]:
    services: dict[str, Any] = model["services"]
    return services


def _condition(service: dict[str, Any], dependency: str) -> str | None:
    depends: dict[str, Any] = service.get("depends_on") or {}
    entry = depends.get(dependency)
    return None if entry is None else str(entry["condition"])


def test_a_fresh_clone_loads_the_whole_stack(compose_model: dict[str, Any]) -> None:
    expected = {"kafka", "kafka-topics", "postgres", "mailpit", "prometheus", "grafana"}
    for name in SERVICES:
        expected |= {name, f"{name}-worker", f"{name}-migrate"}
    assert set(_services(compose_model)) == expected


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_as_api_plus_workers_from_its_own_image(
    compose_model: dict[str, Any], name: str
) -> None:
    services = _services(compose_model)
    api, worker, migrate = services[name], services[f"{name}-worker"], services[f"{name}-migrate"]
    for container in (api, worker, migrate):
        assert container["image"] == f"kamu-{name}:local"
        assert container["build"]["context"] == str(ROOT)
        assert container["build"]["dockerfile"] == DOCKERFILE
        assert container["build"]["args"] == {"SERVICE": name, "PORT": str(PORTS[name])}

    # The API serves HTTP only; relay, consumers, timers and dispatcher run in the workers.
    assert api["command"] is None  # the image's default: api
    assert api["environment"]["KAMU_RUN_RELAY"] == "false"
    assert api["environment"]["KAMU_RUN_CONSUMERS"] == "false"
    assert [p["target"] for p in api["ports"]] == [PORTS[name]]

    assert worker["command"] == ["worker"]
    assert "KAMU_RUN_RELAY" not in worker["environment"]
    assert "KAMU_RUN_CONSUMERS" not in worker["environment"]
    assert not worker.get("ports")
    assert worker["deploy"]["replicas"] >= 2
    partitions = int(worker["environment"]["KAMU_KAFKA_TOPIC_PARTITIONS"])
    assert worker["deploy"]["replicas"] <= partitions, "idle consumers: keep replicas <= partitions"

    assert migrate["command"] == [f"kamu_{name}", "migrate"]
    assert migrate["restart"] == "no"
    assert (
        api["environment"]["KAMU_DATABASE_URL"]
        == migrate["environment"]["KAMU_DATABASE_URL"]
        == worker["environment"]["KAMU_DATABASE_URL"]
    )
    assert api["environment"]["KAMU_DATABASE_URL"].endswith(f"@postgres:5432/kamu_{name}")


def test_every_image_is_built_from_the_one_dockerfile_once_per_service(
    compose_model: dict[str, Any],
) -> None:
    assert (ROOT / DOCKERFILE).is_file()
    builds: dict[str, list[dict[str, Any]]] = {}
    for name, service in _services(compose_model).items():
        if service.get("build"):
            assert service["build"]["dockerfile"] == DOCKERFILE, name
            builds.setdefault(service["image"], []).append(service["build"])
    # One build per image (its containers share it), and each service is named by exactly one.
    for image, same in builds.items():
        assert all(b == same[0] for b in same), f"{image} is built in more than one way"
    named = sorted(same[0]["args"]["SERVICE"] for same in builds.values())
    assert named == sorted(SERVICES)


@pytest.mark.parametrize("name", SERVICES)
def test_start_up_waits_for_healthy_dependencies_and_migrations(
    compose_model: dict[str, Any], name: str
) -> None:
    services = _services(compose_model)
    assert _condition(services["kafka-topics"], "kafka") == "service_healthy"
    assert _condition(services[f"{name}-migrate"], "postgres") == "service_healthy"
    for container in (services[name], services[f"{name}-worker"]):
        assert _condition(container, f"{name}-migrate") == "service_completed_successfully"
        assert _condition(container, "kafka-topics") == "service_completed_successfully"
    assert _condition(services["notifications-worker"], "mailpit") == "service_healthy"


def test_postgres_creates_every_services_database_on_first_start() -> None:
    init = (ROOT / "deploy" / "compose" / "postgres-init.sql").read_text()
    created = re.findall(r"^CREATE DATABASE (\w+);$", init, re.MULTILINE)
    assert created == [f"kamu_{name}" for name in SERVICES]


def test_every_long_running_container_has_a_healthcheck(compose_model: dict[str, Any]) -> None:
    for name, service in _services(compose_model).items():
        if service.get("restart") == "no":
            continue  # one-shots: their exit status is what counts
        check = service.get("healthcheck") or {}
        assert check.get("test"), name
        assert not check.get("disable"), name
    for name in SERVICES:  # ready, not merely alive
        assert "/readyz" in " ".join(_services(compose_model)[name]["healthcheck"]["test"])


def test_topics_are_created_with_the_services_partition_count(
    compose_model: dict[str, Any],
) -> None:
    services = _services(compose_model)
    topics = services["kafka-topics"]
    script = " ".join(topics["command"])
    assert "for service in pairing meetings goals notifications" in script
    assert '--topic "kamu.${service}.events"' in script
    assert '--partitions "${KAMU_KAFKA_TOPIC_PARTITIONS}"' in script
    assert "retention.ms=-1" in script
    partitions = {
        s["environment"]["KAMU_KAFKA_TOPIC_PARTITIONS"]
        for n, s in services.items()
        if n.split("-")[0] in SERVICES
    }
    assert partitions == {topics["environment"]["KAMU_KAFKA_TOPIC_PARTITIONS"]}


def test_every_published_port_listens_on_loopback_only(compose_model: dict[str, Any]) -> None:
    published = {}
    for name, service in _services(compose_model).items():
        for port in service.get("ports") or []:
            assert port["host_ip"] == "127.0.0.1", name
            published[name] = int(port["published"])
    assert published == {
        "kafka": 9092,
        "postgres": 5432,
        "mailpit": 8025,
        "prometheus": 9090,
        "grafana": 3000,
        **{name: PORTS[name] for name in SERVICES},
    }


def test_the_file_holds_no_secret_value() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())  # anchors and merges resolved
    for name, service in raw["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert value is None, f"{name}: {key} must come from the env file"
            if key == "KAMU_DATABASE_URL":
                assert re.fullmatch(
                    r"postgresql://postgres:\$\{POSTGRES_PASSWORD:-\}@postgres:5432/kamu_\w+", value
                ), value


def test_secrets_reach_only_the_services_that_need_them(
    composecheck: Path, run_tool: Callable[..., str], secret_readers: dict[str, tuple[str, ...]]
) -> None:
    model = json.loads(run_tool(composecheck, "--env-file", EXAMPLE, COMPOSE_FILE))
    example = dict(
        line.split("=", 1)
        for line in EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    required = {"KAMU_JWT_SECRET", "KAMU_CALENDAR_FEED_SECRET", "KAMU_WEBHOOK_SIGNING_SECRET"}
    assert set(example) == {"POSTGRES_PASSWORD", *required}
    services = _services(model)
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == example["POSTGRES_PASSWORD"]
    for name in SERVICES:
        for container in (name, f"{name}-worker", f"{name}-migrate"):
            env = services[container]["environment"]
            assert env["KAMU_JWT_SECRET"] == example["KAMU_JWT_SECRET"]
            assert f":{example['POSTGRES_PASSWORD']}@" in env["KAMU_DATABASE_URL"]
            for key, readers in secret_readers.items():
                assert (key in env) == (name in readers), f"{container}: {key}"
                if key in required and key in env:
                    assert env[key] == example[key], f"{container}: {key}"
    # Every optional secret is named, commented out, in the example.
    for key in set(secret_readers) - required - {"KAMU_DATABASE_URL"}:
        assert f"# {key}=" in EXAMPLE.read_text()


def test_the_secrets_file_is_never_committed() -> None:
    result = subprocess.run(
        ["git", "check-ignore", "--quiet", "deploy/compose/secrets.env"], cwd=ROOT, check=False
    )
    assert result.returncode == 0, "deploy/compose/secrets.env must be git-ignored"


@pytest.mark.parametrize(
    ("env", "started"),
    [
        ({}, False),
        ({"KAMU_JWT_SECRET": "s"}, True),
        ({"KAMU_JWT_JWKS_URL": "https://x"}, True),
        ({"KAMU_JWT_SECRET": "s", "KAMU_JWT_JWKS_URL": "https://x"}, False),
    ],
)
def test_migrate_stops_with_advice_unless_exactly_one_token_key_is_set(
    compose_model: dict[str, Any], fake_python: Path, env: dict[str, str], started: bool
) -> None:
    migrate = _services(compose_model)["pairing-migrate"]
    result = subprocess.run(
        [*migrate["entrypoint"], *migrate["command"]],
        env={"PATH": f"{fake_python}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if started:
        assert result.returncode == 0
        assert result.stdout.strip() == "python -m kamu_pairing migrate"
    else:
        assert result.returncode == 1
        assert "deploy/compose/secrets.env" in result.stderr
        assert not result.stdout
