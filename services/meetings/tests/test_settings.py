from kamu_meetings.settings import MeetingsSettings


def test_defaults_follow_the_contract(monkeypatch):
    monkeypatch.delenv("KAMU_DATABASE_URL", raising=False)
    settings = MeetingsSettings()
    assert (settings.service_name, settings.database_url.rsplit("/", 1)[1]) == (
        "meetings",
        "kamu_meetings",
    )
