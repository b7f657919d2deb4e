"""HS256 tokens: valid ones name the caller; everything else is a 401 problem, roles a 403."""

import time

import jwt
import pytest

from kamu_shared.auth.verifier import TokenVerifier
from kamu_shared.settings import ServiceSettings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def settings(secret):
    return ServiceSettings(jwt_secret=secret)


async def test_valid_token_names_the_principal(guarded, settings, make_token):
    async with guarded(settings) as c:
        response = await c.get("/me", headers=bearer(make_token(roles=["employee", "people-ops"])))
    assert response.status_code == 200
    assert response.json() == {"sub": "alice", "roles": ["employee", "people-ops"]}


async def test_missing_header_is_401_with_a_bearer_challenge(guarded, settings):
    async with guarded(settings) as c:
        missing = await c.get("/me")
        basic = await c.get("/me", headers={"Authorization": "Basic YWxpY2U6eA=="})
    for answer in (missing, basic):
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"] == "/problems/unauthorized"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": -60}, "expired"),
        ({"key": "another-secret-of-a-reasonable-length!!"}, "signature"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "evil"}, "issuer"),
        ({"roles": None}, "'roles'"),
        ({"roles": "employee"}, "'roles'"),
        ({"sub": None}, "'sub'"),
        ({"sub": ""}, "'sub'"),
        ({"exp": None}, "'exp'"),
    ],
    ids=[
        "expired",
        "forged",
        "wrong-aud",
        "wrong-iss",
        "no-roles",
        "roles-not-list",
        "no-sub",
        "empty-sub",
        "no-exp",
    ],
)
async def test_unacceptable_tokens_are_401(guarded, settings, make_token, overrides, reason):
    if overrides.get("exp"):
        overrides = {**overrides, "exp": int(time.time()) + overrides["exp"]}
    async with guarded(settings) as c:
        response = await c.get("/me", headers=bearer(make_token(**overrides)))
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "/problems/invalid-token"
    assert reason in body["detail"]
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


@pytest.mark.parametrize(
    "token",
    [
        "not.a.token",
        jwt.encode(
            {"sub": "alice", "roles": ["admin"], "iss": "kamu", "aud": "kamu"}, None, "none"
        ),
    ],
    ids=["garbage", "alg-none"],
)
async def test_malformed_or_unsigned_tokens_are_401(guarded, settings, token):
    async with guarded(settings) as c:
        response = await c.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/invalid-token"


async def test_leeway_accepts_a_token_expired_a_moment_ago(guarded, settings, make_token):
    async with guarded(settings) as c:
        response = await c.get("/me", headers=bearer(make_token(exp=int(time.time()) - 3)))
    assert response.status_code == 200


async def test_role_requirement_is_403_for_others(guarded, settings, make_token):
    async with guarded(settings) as c:
        employee = await c.get("/staff", headers=bearer(make_token(roles=["employee"])))
        people_ops = await c.get("/staff", headers=bearer(make_token(roles=["people-ops"])))
        anonymous = await c.get("/staff")
    assert employee.status_code == 403
    assert employee.json()["type"] == "/problems/forbidden"
    assert people_ops.status_code == 200
    assert anonymous.status_code == 401


def test_exactly_one_key_source_is_configured(secret):
    with pytest.raises(ValueError, match="KAMU_JWT_SECRET"):
        TokenVerifier.from_settings(ServiceSettings())
    with pytest.raises(ValueError, match="exactly one"):
        TokenVerifier(secret=secret, jwks_url="http://127.0.0.1:1/jwks.json")


def test_settings_read_the_secret_from_the_environment(monkeypatch, secret):
    monkeypatch.setenv("KAMU_JWT_SECRET", secret)
    monkeypatch.setenv("KAMU_JWT_LEEWAY_SECONDS", "2")
    settings = ServiceSettings()
    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == secret
    assert secret not in repr(settings)
    assert settings.jwt_leeway_seconds == 2
