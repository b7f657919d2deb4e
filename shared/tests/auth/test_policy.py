"""404 for what the caller may not see, 403 for what they may see but not do."""

from typing import Any

import httpx
import pytest

from kamu_shared.auth.deps import CurrentPrincipal, install_auth
from kamu_shared.auth.policy import authorize, is_self_or
from kamu_shared.auth.principal import PEOPLE_OPS, Principal
from kamu_shared.settings import ServiceSettings
from kamu_shared.web.app import create_service_app
from kamu_shared.web.errors import Forbidden, NotFound

ALICE = Principal(sub="alice", roles=frozenset({"employee"}))
OPS = Principal(sub="olga", roles=frozenset({"employee", "people-ops"}))


def test_authorize():
    authorize(ALICE, visible=True, allowed=True)
    with pytest.raises(NotFound):
        authorize(ALICE, visible=False, allowed=False)
    with pytest.raises(NotFound):  # hidden wins: never confirm that it exists
        authorize(ALICE, visible=False, allowed=True)
    with pytest.raises(Forbidden):
        authorize(ALICE, visible=True, allowed=False)


def test_is_self_or():
    assert is_self_or(ALICE, "alice")
    assert not is_self_or(ALICE, "bob", PEOPLE_OPS)
    assert is_self_or(OPS, "bob", PEOPLE_OPS)
    assert OPS.is_people_ops
    assert not OPS.is_admin
    assert ALICE.is_employee


async def test_routes_answer_404_for_hidden_and_403_for_forbidden(secret, make_token):
    app = create_service_app(ServiceSettings(), title="t", description="t", version="0", checks=[])
    install_auth(app, ServiceSettings(jwt_secret=secret))

    @app.delete("/profiles/{person_id}")
    async def delete(person_id: str, principal: CurrentPrincipal) -> dict[str, Any]:
        # people-ops may see every profile; only the person may delete theirs.
        authorize(
            principal,
            visible=is_self_or(principal, person_id, PEOPLE_OPS),
            allowed=principal.sub == person_id,
        )
        return {"deleted": person_id}

    async def call(sub: str, roles: list[str], target: str) -> httpx.Response:
        token = make_token(sub=sub, roles=roles)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as c:
            return await c.delete(
                f"/profiles/{target}", headers={"Authorization": f"Bearer {token}"}
            )

    own = await call("bob", ["employee"], "bob")
    hidden = await call("alice", ["employee"], "bob")
    forbidden = await call("olga", ["people-ops"], "bob")

    assert own.status_code == 200
    assert hidden.status_code == 404
    assert hidden.json()["type"] == "/problems/not-found"
    assert forbidden.status_code == 403
    assert forbidden.json()["type"] == "/problems/forbidden"
