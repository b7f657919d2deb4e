"""The 404-vs-403 rule in one place, so every route answers the same way.

A resource the caller may not see answers 404 (a 403 would confirm it exists); an action the
caller may not take on a resource they can see answers 403.
"""

import structlog

from kamu_shared.auth.principal import Principal
from kamu_shared.web.errors import Forbidden, NotFound

log = structlog.get_logger("kamu.auth")


def authorize(
    principal: Principal,
    *,
    visible: bool,
    allowed: bool,
    not_found: str = "No such resource.",
    forbidden: str = "You may not do this to this resource.",
) -> None:
    """Return if the caller may act; raise NotFound when hidden, Forbidden when not allowed."""
    if not visible:
        log.info("access-denied", sub=principal.sub, answer=404)
        raise NotFound(not_found)
    if not allowed:
        log.info("access-denied", sub=principal.sub, answer=403)
        raise Forbidden(forbidden)


def is_self_or(principal: Principal, person_id: str, *roles: str) -> bool:
    """True when the caller is ``person_id`` or holds any of ``roles``."""
    return principal.sub == person_id or principal.has_any_role(*roles)
