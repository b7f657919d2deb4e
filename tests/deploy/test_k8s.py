"""deploy/k8s: rendered by kustomize exactly as `kubectl apply -k deploy/k8s` would, every object
checked against the Kubernetes API schemas (strict: no unknown field), then held to the policy:
probes, resources, several replicas, migrations first, topics with partitions, no Secret in
the manifests and every secret through secretKeyRef."""

import re
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("pairing", "meetings", "goals", "notifications", "insights")
# Each has an event topic; insights publishes nothing (it reads all four).
PUBLISHERS = ("pairing", "meetings", "goals", "notifications")
# The oldest Kubernetes these manifests are for, and the newest schemas bundled.
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.utils.latest_version())
TEMPLATE = ROOT / "deploy" / "k8s" / "secrets.template.yaml"
# Channels a deployment may leave out; every other secret must be there before a pod starts.
OPTIONAL_SECRETS = {"KAMU_SMTP_PASSWORD", "KAMU_SLACK_WEBHOOK_URL", "KAMU_TEAMS_WEBHOOK_URL"}
IMAGE = re.compile(r"kamu-(?P<service>[a-z]+):[\w.-]+")


def _find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def _main(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = _pod(deployment)["containers"]
    assert container["name"] == "kamu"
    return dict(container)


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _deployments(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == "Deployment"]


def _config(objects: list[dict[str, Any]], name: str) -> dict[str, str]:
    data: dict[str, str] = _find(objects, "ConfigMap", name)["data"]
    return data


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_for_kubernetes(
    k8s_objects: list[dict[str, Any]], version: str
) -> None:
    problems = []
    for obj in k8s_objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            problems.append(f"{obj['kind']}/{obj['metadata']['name']} {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(exc.message)
    assert not problems, "\n".join(problems)


def test_everything_lands_in_the_kamu_namespace_under_the_restricted_policy(
    k8s_objects: list[dict[str, Any]],
) -> None:
    namespace = _find(k8s_objects, "Namespace", "kamu")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for obj in k8s_objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "kamu", obj["metadata"]["name"]
            assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "kamu"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_an_autoscaled_api_and_its_workers(
    k8s_objects: list[dict[str, Any]], name: str
) -> None:
    api = _find(k8s_objects, "Deployment", f"kamu-{name}-api")
    worker = _find(k8s_objects, "Deployment", f"kamu-{name}-worker")
    hpa = _find(k8s_objects, "HorizontalPodAutoscaler", f"kamu-{name}-api")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": f"kamu-{name}-api",
    }
    assert "replicas" not in api["spec"], "the autoscaler owns the API's replica count"
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]

    partitions = int(_config(k8s_objects, "kamu-config")["KAMU_KAFKA_TOPIC_PARTITIONS"])
    surge = worker["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    assert worker["spec"]["replicas"] >= 2
    assert worker["spec"]["replicas"] + surge <= partitions, "a consumer without a partition"
    scaled = {
        o["spec"]["scaleTargetRef"]["name"]
        for o in k8s_objects
        if o["kind"] == "HorizontalPodAutoscaler"
    }
    assert f"kamu-{name}-worker" not in scaled

    assert _main(api)["args"] == ["api"]
    assert _main(worker)["args"] == ["worker"]
    api_env, worker_env = _env(_main(api)), _env(_main(worker))
    assert api_env["KAMU_RUN_RELAY"]["value"] == api_env["KAMU_RUN_CONSUMERS"]["value"] == "false"
    assert "KAMU_RUN_RELAY" not in worker_env
    assert "KAMU_RUN_CONSUMERS" not in worker_env


@pytest.mark.parametrize("name", SERVICES)
def test_the_service_and_disruption_budgets_select_the_right_pods(
    k8s_objects: list[dict[str, Any]], name: str
) -> None:
    for component in ("api", "worker"):
        deployment = _find(k8s_objects, "Deployment", f"kamu-{name}-{component}")
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector == {
            "app.kubernetes.io/name": f"kamu-{name}",
            "app.kubernetes.io/component": component,
        }
        assert selector.items() <= labels.items()
        budget = _find(k8s_objects, "PodDisruptionBudget", f"kamu-{name}-{component}")
        assert budget["spec"]["selector"]["matchLabels"] == selector
        assert budget["spec"]["maxUnavailable"] == 1
    service = _find(k8s_objects, "Service", f"kamu-{name}-api")
    assert service["spec"]["selector"] == {
        "app.kubernetes.io/name": f"kamu-{name}",
        "app.kubernetes.io/component": "api",
    }
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]


def test_every_container_is_probed_limited_and_unprivileged(
    k8s_objects: list[dict[str, Any]],
) -> None:
    for deployment in _deployments(k8s_objects):
        name, pod = deployment["metadata"]["name"], _pod(deployment)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        main = _main(deployment)
        (port,) = main["ports"]
        assert port == {"name": "http", "containerPort": 8080}
        assert _env(main)["KAMU_HTTP_PORT"]["value"] == "8080"
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == "8080"
        assert main["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        for container in [*pod["initContainers"], main]:
            where = f"{name}/{container['name']}"
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), where
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"]["drop"] == ["ALL"], where


@pytest.mark.parametrize("name", SERVICES)
def test_migrations_run_before_the_service_in_every_pod(
    k8s_objects: list[dict[str, Any]], name: str
) -> None:
    for component in ("api", "worker"):
        deployment = _find(k8s_objects, "Deployment", f"kamu-{name}-{component}")
        migrate, wait = _pod(deployment)["initContainers"]
        assert migrate["name"] == "migrate"
        assert migrate["args"] == ["migrate"]
        assert wait["name"] == "wait-for-topics"
        database = _env(migrate)["KAMU_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert database == {"name": f"kamu-{name}-database", "key": "uri"}
        assert _env(_main(deployment))["KAMU_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == database
        assert set(_env(migrate)) == {"KAMU_DATABASE_URL"}, "migrations need no other secret"


def test_images_are_the_services_own(k8s_objects: list[dict[str, Any]]) -> None:
    for deployment in _deployments(k8s_objects):
        service = deployment["metadata"]["labels"]["app.kubernetes.io/name"].removeprefix("kamu-")
        pod = _pod(deployment)
        for container in [*pod["initContainers"], *pod["containers"]]:
            match = IMAGE.fullmatch(container["image"])
            assert match, container["image"]
            assert match["service"] == service


def test_no_secret_is_in_the_manifests(
    k8s_objects: list[dict[str, Any]], secret_readers: dict[str, tuple[str, ...]]
) -> None:
    assert not [o for o in k8s_objects if o["kind"] == "Secret"]
    secret_keys = set(secret_readers)
    for config in (o for o in k8s_objects if o["kind"] == "ConfigMap"):
        assert not secret_keys & set(config.get("data", {})), config["metadata"]["name"]
    for deployment in _deployments(k8s_objects):
        service = deployment["metadata"]["labels"]["app.kubernetes.io/name"].removeprefix("kamu-")
        main = _main(deployment)
        env = _env(main)
        for key, readers in secret_readers.items():
            assert (key in env) == (service in readers), f"{service}: {key}"
            if key in env:
                assert set(env[key]) == {"name", "valueFrom"}, f"{service}: {key} has a value"
                assert set(env[key]["valueFrom"]) == {"secretKeyRef"}
                optional = env[key]["valueFrom"]["secretKeyRef"].get("optional", False)
                assert optional == (key in OPTIONAL_SECRETS), f"{service}: {key}"


def test_every_secret_referenced_is_described_in_the_template(
    k8s_objects: list[dict[str, Any]],
) -> None:
    template = {
        (doc["metadata"]["name"], key)
        for doc in yaml.safe_load_all(TEMPLATE.read_text())
        for key in doc["stringData"]
    }
    referenced = {
        (env["valueFrom"]["secretKeyRef"]["name"], env["valueFrom"]["secretKeyRef"]["key"])
        for deployment in _deployments(k8s_objects)
        for container in [*_pod(deployment)["initContainers"], *_pod(deployment)["containers"]]
        for env in container.get("env", [])
        if "secretKeyRef" in env.get("valueFrom", {})
    }
    assert referenced == template
    listed = yaml.safe_load((ROOT / "deploy" / "k8s" / "kustomization.yaml").read_text())
    assert TEMPLATE.name not in listed["resources"]


def test_the_topics_job_creates_every_event_topic_with_the_configured_partitions(
    k8s_objects: list[dict[str, Any]],
) -> None:
    job = _find(k8s_objects, "Job", "kamu-kafka-topics")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    script = " ".join(container["args"])
    assert "for service in pairing meetings goals notifications" in script
    assert '--topic "kamu.${service}.events"' in script
    assert '--partitions "$KAMU_KAFKA_TOPIC_PARTITIONS"' in script
    assert "retention.ms=-1" in script
    assert container["envFrom"] == [{"configMapRef": {"name": "kamu-config"}}]
    assert int(_config(k8s_objects, "kamu-config")["KAMU_KAFKA_TOPIC_PARTITIONS"]) >= 3
    # What the services wait for is what the Job creates.
    for deployment in _deployments(k8s_objects):
        wait = _pod(deployment)["initContainers"][1]
        topics = _env(wait)["TOPICS"]["value"].split()
        assert topics == [f"kamu.{name}.events" for name in PUBLISHERS]
        envs = [ref["configMapRef"]["name"] for ref in _main(deployment)["envFrom"]]
        assert envs[0] == "kamu-config"
        assert re.fullmatch(r"kamu-[a-z]+-config-\w+", envs[1])


def test_insights_is_a_service_like_the_others_that_relays_nothing(
    k8s_objects: list[dict[str, Any]],
) -> None:
    """Its own image, database and the JWT secret only; its workers run the projections."""
    listed = yaml.safe_load((ROOT / "deploy" / "k8s" / "kustomization.yaml").read_text())
    assert "insights" in listed["resources"]
    assert {"name": "kamu-insights", "newName": "kamu-insights", "newTag": "0.1.0"} in listed[
        "images"
    ]
    for component in ("api", "worker"):
        deployment = _find(k8s_objects, "Deployment", f"kamu-insights-{component}")
        secrets = {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in _main(deployment)["env"]
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        assert secrets == {"kamu-jwt", "kamu-insights-database"}


def test_notifications_send_email_through_a_configured_smtp_server(
    k8s_objects: list[dict[str, Any]],
) -> None:
    deployment = _find(k8s_objects, "Deployment", "kamu-notifications-worker")
    (name,) = [
        ref["configMapRef"]["name"]
        for ref in _main(deployment)["envFrom"]
        if ref["configMapRef"]["name"].startswith("kamu-notifications-config")
    ]
    config = _config(k8s_objects, name)
    assert config["KAMU_SMTP_HOST"]
    assert int(config["KAMU_SMTP_PORT"]) > 0
    assert not [o for o in k8s_objects if "mailpit" in yaml.safe_dump(o)]
