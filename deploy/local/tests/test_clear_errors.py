"""When infrastructure cannot be had, the error says what to install or change."""

import socket

import pytest

from kamu_devstack.errors import InfraError
from kamu_devstack.infra import start_infrastructure
from kamu_devstack.kafka import cluster_id, ensure_jars, require_java
from kamu_devstack.services import check_ports_free


@pytest.fixture
def bare_path(monkeypatch, tmp_path):
    """A PATH on which neither java nor mvn exists."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)


@pytest.mark.usefixtures("bare_path")
def test_missing_java_names_what_to_install():
    with pytest.raises(InfraError, match=r"Java 17.*apt-get install openjdk-17-jre-headless"):
        require_java()


@pytest.mark.usefixtures("bare_path")
def test_missing_maven_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("KAMU_CACHE_DIR", str(tmp_path / "empty-cache"))

    with pytest.raises(InfraError, match=r"apt-get install maven"):
        ensure_jars(progress=False)


def test_taken_service_port_is_named():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]

        with pytest.raises(InfraError, match=rf"pairing on {port}.*--base-port"):
            check_ports_free(port - 1)


def test_unknown_provider_choice_is_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("KAMU_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("KAMU_INFRA", "cloud")

    with pytest.raises(InfraError, match="KAMU_INFRA must be auto, local or docker"):
        start_infrastructure(tmp_path)


def test_cluster_ids_are_kafka_uuids():
    ids = {cluster_id() for _ in range(100)}

    assert len(ids) == 100
    assert all(len(i) == 22 and "=" not in i for i in ids)


@pytest.mark.regression  # 1 start in 64 failed: "-t -Abc..." read as an option by kafka-storage
def test_no_cluster_id_starts_with_a_dash():
    assert not any(cluster_id().startswith("-") for _ in range(5000))
