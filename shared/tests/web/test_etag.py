"""ETags are stream versions; If-Match guards writes, If-None-Match saves a GET."""

import httpx
import pytest
from fastapi import Request, Response

from kamu_shared.settings import ServiceSettings
from kamu_shared.web.app import create_service_app
from kamu_shared.web.errors import PreconditionFailed, ProblemError
from kamu_shared.web.etag import check_if_match, etag, is_not_modified, not_modified, set_etag


def test_etag_is_strong_and_names_the_version():
    assert etag(3) == '"v3"'


@pytest.mark.parametrize("header", [None, '"v3"', "*", '"v1", "v3"', ' "v2" ,"v3" '], ids=repr)
def test_if_match_passes(header):
    check_if_match(header, 3)


@pytest.mark.parametrize("header", ['"v2"', 'W/"v3"', '"v1", "v2"', "v3", "garbage"], ids=repr)
def test_if_match_mismatch_is_412(header):
    with pytest.raises(PreconditionFailed) as caught:
        check_if_match(header, 3)
    assert caught.value.status == 412
    assert caught.value.headers["ETag"] == '"v3"'


def test_if_match_can_be_required():
    with pytest.raises(ProblemError) as caught:
        check_if_match(None, 3, required=True)
    assert caught.value.status == 428


def test_if_none_match_uses_weak_comparison():
    assert is_not_modified('W/"v3"', 3)
    assert is_not_modified("*", 3)
    assert not is_not_modified('"v2"', 3)
    assert not is_not_modified(None, 3)


def client() -> httpx.AsyncClient:
    app = create_service_app(ServiceSettings(), title="t", description="t", version="0", checks=[])
    state = {"version": 3}

    @app.get("/doc", response_model=None)
    async def read(request: Request, response: Response) -> Response | dict[str, int]:
        if (cached := not_modified(request, state["version"])) is not None:
            return cached
        set_etag(response, state["version"])
        return {"version": state["version"]}

    @app.put("/doc")
    async def write(request: Request, response: Response) -> dict[str, int]:
        check_if_match(request, state["version"])
        state["version"] += 1
        set_etag(response, state["version"])
        return {"version": state["version"]}

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_etag_round_trip_over_http():
    async with client() as c:
        first = await c.get("/doc")
        assert first.headers["etag"] == '"v3"'
        cached = await c.get("/doc", headers={"If-None-Match": first.headers["etag"]})
        updated = await c.put("/doc", headers={"If-Match": first.headers["etag"]})
        stale = await c.put("/doc", headers={"If-Match": first.headers["etag"]})

    assert cached.status_code == 304
    assert cached.headers["etag"] == '"v3"'
    assert updated.status_code == 200
    assert updated.headers["etag"] == '"v4"'
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["type"] == "/problems/precondition-failed"
    assert stale.json()["current_etag"] == '"v4"'
