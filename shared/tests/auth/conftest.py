"""Tokens, an app guarded by them, and a real JWKS endpoint on 127.0.0.1 (as fixtures)."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends

from kamu_shared.auth.deps import CurrentPrincipal, install_auth, require_roles
from kamu_shared.auth.principal import Principal
from kamu_shared.auth.verifier import TokenVerifier
from kamu_shared.settings import ServiceSettings
from kamu_shared.web.app import create_service_app

StaffOnly = Annotated[Principal, Depends(require_roles("people-ops", "admin"))]


def _claims(overrides: dict[str, Any]) -> dict[str, Any]:
    """Valid claims for alice (employee); an override of None removes the claim."""
    base = {
        "sub": "alice",
        "roles": ["employee"],
        "iss": "kamu",
        "aud": "kamu",
        "exp": int(time.time()) + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture(scope="session")
def secret() -> str:
    return "test-secret-that-is-long-enough-for-hs256!"


@pytest.fixture(scope="session")
def make_token(secret) -> Callable[..., str]:
    def make(key: str | None = None, **overrides: Any) -> str:
        return jwt.encode(_claims(overrides), key or secret, algorithm="HS256")

    return make


@pytest.fixture(scope="session")
def guarded() -> Callable[[ServiceSettings | TokenVerifier], httpx.AsyncClient]:
    """A client for an app with ``/me`` (any caller) and ``/staff`` (people-ops or admin)."""

    def client(source: ServiceSettings | TokenVerifier) -> httpx.AsyncClient:
        app = create_service_app(
            ServiceSettings(), title="t", description="t", version="0", checks=[]
        )
        install_auth(app, source)

        @app.get("/me")
        async def me(principal: CurrentPrincipal) -> dict[str, Any]:
            return {"sub": principal.sub, "roles": sorted(principal.roles)}

        @app.get("/staff")
        async def staff(principal: StaffOnly) -> dict[str, str]:
            return {"sub": principal.sub}

        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return client


class Jwks:
    """An RSA key pair whose public half a real HTTP server publishes as a JWK set."""

    def __init__(self, url: str, key: rsa.RSAPrivateKey, kid: str) -> None:
        self.url = url
        self.key = key
        self.kid = kid

    def sign(
        self, key: rsa.RSAPrivateKey | None = None, kid: str | None = None, **overrides: Any
    ) -> str:
        return jwt.encode(
            _claims(overrides), key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )


@pytest.fixture(scope="session")
def new_rsa_key() -> Callable[[], rsa.RSAPrivateKey]:
    return lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def jwks(new_rsa_key) -> Iterator[Jwks]:
    key, kid = new_rsa_key(), "kamu-test-1"
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    document = json.dumps({"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/.well-known/jwks.json":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield Jwks(f"http://{host}:{port}/.well-known/jwks.json", key, kid)
    finally:
        server.shutdown()
        server.server_close()
