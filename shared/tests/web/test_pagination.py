"""Lists page with ?limit=&cursor=; a cursor is opaque and a broken one is a 400, never a 500."""

import base64

import httpx
import pytest

from kamu_shared.settings import ServiceSettings
from kamu_shared.web.app import create_service_app
from kamu_shared.web.errors import BadRequest
from kamu_shared.web.pagination import (
    Page,
    PageQuery,
    decode_cursor,
    encode_cursor,
    paginate,
)

NUMBERS = list(range(1, 121))


def test_cursor_round_trip_is_url_safe():
    position = {"id": "é/+?", "at": 12}
    cursor = encode_cursor(position)
    assert decode_cursor(cursor) == position
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "cursor",
    ["", "!!!", "a+b/", "bm90IGpzb24", encode_cursor({"a": 1})[:-3] + "~", "WzFd", "x" * 5000],
    ids=["empty", "symbols", "std-alphabet", "not-json", "tilde", "json-list", "huge"],
)
def test_malformed_cursor_is_invalid_cursor(cursor):
    with pytest.raises(BadRequest) as caught:
        decode_cursor(cursor)
    assert caught.value.slug == "invalid-cursor"


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.regression
@pytest.mark.parametrize(
    "text",
    ['{"id": "a\\u0000b"}', '{"id": "a\\ud800"}', '{"k": ["\\udfff"]}', '{"\\ud800": 1}'],
    ids=["nul", "lone-surrogate", "surrogate-in-list", "surrogate-key"],
)
def test_a_cursor_with_text_postgresql_refuses_is_invalid_cursor(text):
    """Found by the meetings bad-input matrix: such text reached asyncpg and gave a 500."""
    with pytest.raises(BadRequest) as caught:
        decode_cursor(_raw(text))
    assert caught.value.slug == "invalid-cursor"


def test_paginate_sets_next_cursor_only_when_more_rows_exist():
    more = paginate([1, 2, 3], 2, lambda n: {"after": n})
    last = paginate([1, 2], 2, lambda n: {"after": n})
    assert more.items == [1, 2]
    assert decode_cursor(more.next_cursor) == {"after": 2}
    assert last.next_cursor is None


def client() -> httpx.AsyncClient:
    app = create_service_app(ServiceSettings(), title="t", description="t", version="0", checks=[])

    @app.get("/numbers")
    async def numbers(page: PageQuery) -> Page[int]:
        position = page.position()
        after = int(position["after"]) if position else 0
        rows = [n for n in NUMBERS if n > after][: page.limit + 1]
        return paginate(rows, page.limit, lambda n: {"after": n})

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_walking_pages_visits_every_item_once():
    seen: list[int] = []
    async with client() as c:
        first = await c.get("/numbers")
        assert len(first.json()["items"]) == 50
        params: dict[str, str | int] = {"limit": 70}
        while True:
            body = (await c.get("/numbers", params=params)).json()
            seen.extend(body["items"])
            if body["next_cursor"] is None:
                break
            params = {"limit": 70, "cursor": body["next_cursor"]}
    assert seen == NUMBERS


@pytest.mark.parametrize("limit", [0, 201, "many"])
async def test_limit_out_of_range_is_422(limit):
    async with client() as c:
        response = await c.get("/numbers", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == ["query", "limit"]


async def test_malformed_cursor_over_http_is_400():
    async with client() as c:
        response = await c.get("/numbers", params={"cursor": "%%%not-a-cursor"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/invalid-cursor"
