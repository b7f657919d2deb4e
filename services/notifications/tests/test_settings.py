from kamu_notifications.settings import NotificationsSettings


def test_defaults_follow_the_contract(monkeypatch):
    monkeypatch.delenv("KAMU_DATABASE_URL", raising=False)
    settings = NotificationsSettings()
    assert (settings.service_name, settings.database_url.rsplit("/", 1)[1]) == (
        "notifications",
        "kamu_notifications",
    )
