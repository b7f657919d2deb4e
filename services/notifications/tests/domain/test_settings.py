"""The notifications service's secrets are refused at start while they hold a template's
placeholder (the shared rule, applied to the fields this service adds)."""

import pytest
from pydantic import ValidationError

from kamu_notifications.settings import NotificationsSettings


@pytest.mark.parametrize(
    "name", ["KAMU_WEBHOOK_SIGNING_SECRET", "KAMU_SMTP_PASSWORD", "KAMU_SLACK_WEBHOOK_URL"]
)
def test_a_template_placeholder_is_refused_at_start(monkeypatch, name):
    monkeypatch.setenv(name, "https://hooks.example.org/CHANGE-ME")

    with pytest.raises(ValidationError, match=name.removeprefix("KAMU_").lower()):
        NotificationsSettings()
