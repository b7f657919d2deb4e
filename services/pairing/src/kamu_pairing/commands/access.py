"""Who may act on what: People Operations, services and admins administer; people act for
themselves. A resource the caller may not see answers 404, an action they may not take 403."""

from kamu_shared.auth.policy import authorize
from kamu_shared.auth.principal import Principal

ADMINISTERS = ("people-ops", "admin")
SYNCS = ("people-ops", "service", "admin")


def administers(principal: Principal) -> bool:
    return principal.has_any_role(*ADMINISTERS)


def require_self_or(principal: Principal, person_id: str, *roles: str) -> None:
    """Only the person themself or the given roles; anyone else learns nothing (404)."""
    allowed = principal.sub == person_id or principal.has_any_role(*roles)
    authorize(principal, visible=allowed, allowed=allowed)


def require_role(principal: Principal, *roles: str, visible: bool = True) -> None:
    authorize(principal, visible=visible, allowed=principal.has_any_role(*roles))
