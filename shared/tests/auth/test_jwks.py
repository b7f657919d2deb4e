"""RS256 through a JWKS document served over real HTTP; keys fetched off the event loop."""

from kamu_devstack.ports import free_port
from kamu_shared.auth.verifier import TokenVerifier
from kamu_shared.settings import ServiceSettings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_token_signed_by_a_published_key_is_accepted(guarded, jwks):
    async with guarded(ServiceSettings(jwt_jwks_url=jwks.url)) as c:
        response = await c.get("/me", headers=bearer(jwks.sign(roles=["service"])))
    assert response.status_code == 200
    assert response.json() == {"sub": "alice", "roles": ["service"]}


async def test_token_signed_by_another_key_is_refused(guarded, jwks, new_rsa_key):
    other = new_rsa_key()
    verifier = TokenVerifier(jwks_url=jwks.url)
    async with guarded(verifier) as c:
        same_kid = await c.get("/me", headers=bearer(jwks.sign(key=other)))
        unknown_kid = await c.get("/me", headers=bearer(jwks.sign(key=other, kid="stranger")))
    for answer in (same_kid, unknown_kid):
        assert answer.status_code == 401
        assert answer.json()["type"] == "/problems/invalid-token"


async def test_hs256_token_is_refused_by_an_rs256_verifier(guarded, jwks, make_token):
    async with guarded(TokenVerifier(jwks_url=jwks.url)) as c:
        response = await c.get("/me", headers=bearer(make_token()))
    assert response.status_code == 401


async def test_unreachable_jwks_is_503_not_401(guarded, jwks):
    closed = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    async with guarded(TokenVerifier(jwks_url=closed)) as c:
        response = await c.get("/me", headers=bearer(jwks.sign()))
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/authentication-unavailable"
    assert response.headers["retry-after"]
