from kamu_pairing.settings import PairingSettings


def test_defaults_follow_the_contract(monkeypatch):
    monkeypatch.delenv("KAMU_DATABASE_URL", raising=False)
    settings = PairingSettings()
    assert (settings.service_name, settings.database_url.rsplit("/", 1)[1]) == (
        "pairing",
        "kamu_pairing",
    )
