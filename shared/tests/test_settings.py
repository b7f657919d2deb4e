"""Settings come from ``KAMU_`` environment variables and reject nonsense early."""

import pytest
from pydantic import ValidationError

from kamu_shared.settings import ServiceSettings


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("KAMU_KAFKA_BOOTSTRAP", "10.1.2.3:9092")
    monkeypatch.setenv("KAMU_HTTP_PORT", "9001")

    settings = ServiceSettings()

    assert settings.kafka_bootstrap == "10.1.2.3:9092"
    assert settings.http_port == 9001


@pytest.mark.parametrize(
    ("name", "value"), [("KAMU_HTTP_PORT", "eighty"), ("KAMU_LOG_FORMAT", "xml")]
)
def test_invalid_values_are_refused_at_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match=name.removeprefix("KAMU_").lower()):
        ServiceSettings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KAMU_JWT_SECRET", "CHANGE-ME"),
        ("KAMU_DATABASE_URL", "postgresql://kamu:CHANGE-ME@db:5432/kamu_goals"),
    ],
)
def test_a_template_placeholder_is_refused_at_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError, match="CHANGE-ME"):
        ServiceSettings()
