"""FastAPI dependencies: the verified caller, and role requirements.

An app installs its verifier once, in its composition root::

    app = create_service_app(settings, ...)
    install_auth(app, settings)          # or install_auth(app, TokenVerifier(...))

and routes declare ``principal: CurrentPrincipal``. Failures answer 401 problems with
``WWW-Authenticate: Bearer``; :func:`require_roles` answers 403.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kamu_shared.auth.principal import Principal
from kamu_shared.auth.verifier import InvalidToken, TokenVerifier, VerifierUnavailable
from kamu_shared.settings import ServiceSettings
from kamu_shared.web.errors import Forbidden, ProblemError, Unauthorized

_STATE_KEY = "kamu_token_verifier"

_bearer = HTTPBearer(auto_error=False, description="A Kamu JWT: Authorization: Bearer <token>")


def install_auth(app: FastAPI, source: ServiceSettings | TokenVerifier) -> TokenVerifier:
    """Make ``CurrentPrincipal`` work in ``app``; fails now if no key is configured."""
    verifier = source if isinstance(source, TokenVerifier) else TokenVerifier.from_settings(source)
    setattr(app.state, _STATE_KEY, verifier)
    return verifier


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller named by the bearer token; 401 when it is missing or not acceptable."""
    verifier = getattr(request.app.state, _STATE_KEY, None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError("no token verifier: call install_auth(app, settings) in create_app")
    if credentials is None:
        raise Unauthorized("Send Authorization: Bearer <token>.")
    try:
        return await verifier.verify(credentials.credentials)
    except InvalidToken as exc:
        raise Unauthorized(
            f"The bearer token is not accepted: {exc}.",
            slug="invalid-token",
            title="Invalid token",
            challenge=f'Bearer error="invalid_token", error_description="{exc}"',
        ) from None
    except VerifierUnavailable:
        raise ProblemError(
            503,
            "authentication-unavailable",
            "Authentication unavailable",
            "The service cannot check tokens right now; retry shortly.",
            headers={"Retry-After": "5"},
        ) from None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller if a bearer token was sent (and is accepted: 401 otherwise), else ``None``:
    for routes that also take another credential, such as a calendar feed's secret link."""
    if credentials is None:
        return None
    return await current_principal(request, credentials)


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency passing callers holding any of ``roles``; others get 403.

    Use it for actions reserved to a role; for a resource the caller may not even see, answer
    404 instead (see :func:`kamu_shared.auth.policy.authorize`).
    """
    if not roles:
        raise ValueError("require_roles needs at least one role")

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any_role(*roles):
            raise Forbidden(f"This action needs one of the roles: {', '.join(roles)}.")
        return principal

    return dependency
