"""Bearer token verification: HS256 with a shared secret (local, tests) or RS256 via JWKS.

Exactly one of the two is configured, so a deployment never accepts both kinds by accident, and
each accepts only its own algorithm (no ``alg`` confusion). The JWKS document is fetched by
PyJWT's synchronous client in a worker thread, so the event loop never waits on the network.
"""

import asyncio
from typing import Any

import jwt

from kamu_shared.auth.principal import Principal
from kamu_shared.settings import ServiceSettings

_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]


class InvalidToken(Exception):
    """The token is missing, forged, expired or for someone else; the message says which."""


class VerifierUnavailable(Exception):
    """The keys could not be fetched: the token may be fine, the service cannot tell."""


class TokenVerifier:
    """Turns a compact JWT into a :class:`Principal`, or raises :class:`InvalidToken`."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        jwks_url: str | None = None,
        issuer: str = "kamu",
        audience: str = "kamu",
        leeway_seconds: float = 10,
        jwks_cache_seconds: float = 300,
        jwks_timeout_seconds: float = 5,
    ) -> None:
        if bool(secret) == bool(jwks_url):
            raise ValueError(
                "configure exactly one token key: KAMU_JWT_SECRET (HS256, local runs and tests) "
                "or KAMU_JWT_JWKS_URL (RS256, production)"
            )
        self._secret = secret or None
        self._jwks = (
            jwt.PyJWKClient(jwks_url, lifespan=jwks_cache_seconds, timeout=jwks_timeout_seconds)
            if jwks_url
            else None
        )
        self.issuer = issuer
        self.audience = audience
        self.leeway_seconds = leeway_seconds

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "TokenVerifier":
        secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        return cls(
            secret=secret,
            jwks_url=settings.jwt_jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_seconds=settings.jwt_leeway_seconds,
            jwks_cache_seconds=settings.jwt_jwks_cache_seconds,
        )

    async def verify(self, token: str) -> Principal:
        """The principal the token names; raises InvalidToken or VerifierUnavailable."""
        try:
            if self._jwks is not None:
                key: Any = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                algorithm = "RS256"
            else:
                key, algorithm = self._secret, "HS256"
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise VerifierUnavailable("the signing keys could not be fetched") from exc
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("the token has expired") from exc
        except (jwt.InvalidAudienceError, jwt.InvalidIssuerError) as exc:
            raise InvalidToken(
                "the token was issued for another audience or by another issuer"
            ) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"the token lacks the {exc.claim!r} claim") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("the token is malformed or its signature is not valid") from exc
        return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    sub, roles = claims.get("sub"), claims.get("roles")
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("the token's 'sub' claim is empty")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("the token lacks a 'roles' claim listing role names")
    return Principal(sub=sub, roles=frozenset(roles))
