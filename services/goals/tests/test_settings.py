from kamu_goals.settings import GoalsSettings


def test_defaults_follow_the_contract(monkeypatch):
    monkeypatch.delenv("KAMU_DATABASE_URL", raising=False)
    settings = GoalsSettings()
    assert (settings.service_name, settings.database_url.rsplit("/", 1)[1]) == (
        "goals",
        "kamu_goals",
    )
