"""Input PostgreSQL cannot store is refused up front: 422 for NUL characters, 413 for size."""

import httpx
import pytest
from pydantic import BaseModel

from kamu_shared.settings import ServiceSettings
from kamu_shared.web.app import create_service_app
from kamu_shared.web.sanitize import MAX_BODY_BYTES


class Note(BaseModel):
    text: str


def client(calls: list[str]) -> httpx.AsyncClient:
    app = create_service_app(ServiceSettings(), title="t", description="t", version="0")

    @app.post("/notes/{note_id}")
    async def post_note(note_id: str, note: Note) -> dict[str, str]:
        calls.append(note.text)
        return {"id": note_id}

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("/notes/a", b'{"text": "a\\u0000b"}'),
        ("/notes/a%00b", b'{"text": "fine"}'),
        ("/notes/a?x=%00", b'{"text": "fine"}'),
    ],
)
async def test_nul_characters_are_refused_before_any_handler(path, content):
    calls: list[str] = []
    async with client(calls) as c:
        answer = await c.post(path, content=content, headers={"content-type": "application/json"})

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "/problems/invalid-characters"
    assert "x-correlation-id" in answer.headers
    assert calls == []


async def test_an_escaped_backslash_before_u0000_is_text_not_nul():
    calls: list[str] = []
    async with client(calls) as c:
        answer = await c.post(
            "/notes/a",
            content=b'{"text": "C:\\\\u0000dir"}',
            headers={"content-type": "application/json"},
        )

    assert answer.status_code == 200
    assert calls == ["C:\\u0000dir"]


async def test_a_body_over_the_limit_is_413():
    calls: list[str] = []
    big = b'{"text": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    async with client(calls) as c:
        answer = await c.post("/notes/a", content=big, headers={"content-type": "application/json"})

    assert answer.status_code == 413
    assert answer.json()["type"] == "/problems/payload-too-large"
    assert calls == []
