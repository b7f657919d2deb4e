"""The one check of an RFC 9457 answer every API test makes, so each suite asks the same."""

from typing import Any, Protocol


class _Response(Protocol):
    status_code: int
    headers: Any
    text: str

    def json(self) -> Any: ...


def assert_problem(response: _Response, status: int, slug: str | None = None) -> dict[str, Any]:
    """``response`` is a problem+json answer with ``status`` (and type ``/problems/<slug>``);
    a 401 also names the Bearer scheme. Returns the body for further checks."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert body["type"].startswith("/problems/")
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return body
