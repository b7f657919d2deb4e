"""Insights is one of the stack's services: its port, database and settings, the dashboard
link ``up`` prints, and no event catalogue of its own."""

import jwt

from kamu_devstack.cli import _print_where
from kamu_devstack.services import (
    PORTS,
    PUBLISHERS,
    SERVICES,
    ServiceProcess,
    service_databases,
    service_env,
)
from kamu_devstack.stack import DASHBOARD_TOKEN_SECONDS, Stack, dashboard_url, jwt_secret


def test_insights_listens_on_base_plus_five_with_a_database_of_its_own():
    assert dict(SERVICES)["insights"] == 5
    assert ("insights", 5) in PORTS
    assert "insights" not in PUBLISHERS  # it publishes no events
    databases = service_databases("postgresql://postgres@127.0.0.1:5432/postgres")
    assert databases["insights"] == "postgresql://postgres@127.0.0.1:5432/kamu_insights"
    secrets = {"jwt": "j", "webhook": "w"}
    assert service_env("insights", 8000, secrets) == {"KAMU_JWT_SECRET": "j"}


def test_the_dashboard_link_carries_a_people_ops_token_of_the_stack(tmp_path, capsys):
    stack = Stack(state_dir=tmp_path, base_port=8000)
    assert dashboard_url(stack) is None  # insights does not run
    stack.services = [
        ServiceProcess(name="pairing", port=8001, log="p.log"),
        ServiceProcess(name="insights", port=8005, log="i.log"),
    ]

    url = dashboard_url(stack)

    assert url is not None
    address, token = url.split("#token=")
    assert address == "http://127.0.0.1:8005/dashboard"
    claims = jwt.decode(token, jwt_secret(tmp_path), algorithms=["HS256"], audience="kamu")
    assert claims["roles"] == ["people-ops"]
    assert claims["exp"] - claims["iat"] == DASHBOARD_TOKEN_SECONDS
    _print_where(stack)
    printed = capsys.readouterr().out
    assert "http://127.0.0.1:8005/dashboard#token=" in printed
    assert "insights       http://127.0.0.1:8005" in printed
