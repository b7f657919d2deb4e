"""``Idempotency-Key``: a retried POST gets the first answer, and its effect happens once.

The event store needs its append to be the first write of a transaction (it takes advisory
locks first so transaction ids follow commit order per stream). So nothing is written before the
command runs:

1. look the key up without writing: same request -> replay the stored answer (with
   ``Idempotent-Replayed: true``); same key, other request -> 422 ``idempotency-key-reused``;
2. otherwise run the command in a transaction and, after its writes, insert the key's row in
   the same transaction;
3. if that insert finds the key taken (a concurrent retry committed first), roll everything back
   and replay the winner's answer. A command that fails while a concurrent retry has committed
   also gets the winner's answer (e.g. its append saw the stream move on).

Problems raised by the command roll back and are not stored, so a retry with fixed input runs.
Rows may be purged after the retention period (:func:`purge_older_than`); a key retried after
that runs again.
"""

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi.encoders import jsonable_encoder
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kamu_shared.db.pool import Connection, Pool
from kamu_shared.web.errors import BadRequest, Conflict, Unprocessable

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
_KEY = re.compile(r"[\x21-\x7e]+")  # visible ASCII: UUIDs, ULIDs, base64 all fit

_SELECT = """
SELECT request_fingerprint, status_code, response_body::text AS body, response_headers::text
       AS headers
FROM kamu_idempotency_keys WHERE principal = $1 AND key = $2
"""
_INSERT = """
INSERT INTO kamu_idempotency_keys (principal, key, method, path, request_fingerprint,
    status_code, response_body, response_headers)
VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8::text::jsonb)
ON CONFLICT (principal, key) DO NOTHING
RETURNING true
"""


@dataclass(frozen=True)
class CommandResult:
    """A command's answer: status, JSON-able body, headers (e.g. ``ETag``, ``Location``)."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    replayed: bool = False

    def to_response(self) -> Response:
        if self.status in (204, 304):
            return Response(status_code=self.status, headers=dict(self.headers))
        return JSONResponse(self.body, status_code=self.status, headers=dict(self.headers))


Execute = Callable[[Connection], Awaitable[CommandResult]]


class _KeyTaken(Exception):
    """Raised inside the transaction to roll the command back: another request stored first."""


def fingerprint(method: str, path: str, body: bytes) -> str:
    """sha256 of method, path and the body (JSON canonicalised, so key order does not count)."""
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), b"\n", path.encode(), b"\n", canonical):
        digest.update(part)
    return digest.hexdigest()


def parse_key(header: str | None) -> str | None:
    """The key from an ``Idempotency-Key`` header (quotes of a structured string dropped)."""
    if header is None:
        return None
    key = header.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    return check_key(key)


def check_key(key: str) -> str:
    """``key`` if usable; a 400 ``invalid-idempotency-key`` problem otherwise."""
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise BadRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters, "
            "for example a UUID.",
            slug="invalid-idempotency-key",
            title="Invalid Idempotency-Key",
        )
    return key


@dataclass(frozen=True)
class _Stored:
    fingerprint: str
    result: CommandResult


async def _lookup(pool: Pool, principal: str, key: str) -> _Stored | None:
    row = await pool.fetchrow(_SELECT, principal, key)
    if row is None:
        return None
    headers = {**json.loads(row["headers"]), REPLAYED_HEADER: "true"}
    body = None if row["body"] is None else json.loads(row["body"])
    return _Stored(
        row["request_fingerprint"],
        CommandResult(row["status_code"], body, headers, replayed=True),
    )


def _replay(stored: _Stored, request_fingerprint: str) -> CommandResult:
    if stored.fingerprint != request_fingerprint:
        raise Unprocessable(
            "This Idempotency-Key was used for a different request; use a new key.",
            slug="idempotency-key-reused",
            title="Idempotency-Key reused",
        )
    return stored.result


def _encoded(result: CommandResult) -> CommandResult:
    """The result as it will be stored and replayed, so first answer and replay are equal."""
    return CommandResult(
        result.status,
        jsonable_encoder(result.body),
        {str(k): str(v) for k, v in result.headers.items()},
    )


class Idempotency:
    """Runs commands once per ``(principal, Idempotency-Key)``; see the module docstring."""

    async def run(
        self,
        pool: Pool,
        *,
        principal: str,
        key: str | None,
        method: str,
        path: str,
        body: bytes,
        execute: Execute,
    ) -> CommandResult:
        """The command's answer, or the stored first answer for a retried key."""
        if key is None:
            async with pool.acquire() as conn, conn.transaction():
                return _encoded(await execute(conn))
        key = check_key(key)
        request_fingerprint = fingerprint(method, path, body)
        stored = await _lookup(pool, principal, key)
        if stored is not None:
            return _replay(stored, request_fingerprint)
        try:
            async with pool.acquire() as conn, conn.transaction():
                result = _encoded(await execute(conn))
                inserted = await conn.fetchval(
                    _INSERT,
                    principal,
                    key,
                    method.upper(),
                    path,
                    request_fingerprint,
                    result.status,
                    json.dumps(result.body),
                    json.dumps(dict(result.headers)),
                )
                if not inserted:
                    raise _KeyTaken
        except _KeyTaken:
            pass
        except Exception:
            stored = await _lookup(pool, principal, key)
            if stored is None:
                raise
            return _replay(stored, request_fingerprint)
        else:
            return result
        stored = await _lookup(pool, principal, key)
        if stored is None:  # purged between the two statements: vanishingly rare
            raise Conflict("A concurrent request with this key is settling; retry.", retry_after=1)
        return _replay(stored, request_fingerprint)

    async def respond(
        self, request: Request, pool: Pool, *, principal: str, execute: Execute
    ) -> Response:
        """:meth:`run` for a FastAPI route: key, method, path and body come from ``request``."""
        url = request.url
        result = await self.run(
            pool,
            principal=principal,
            key=parse_key(request.headers.get(IDEMPOTENCY_KEY_HEADER)),
            method=request.method,
            path=f"{url.path}?{url.query}" if url.query else url.path,
            body=await request.body(),
            execute=execute,
        )
        return result.to_response()


async def purge_older_than(pool: Pool, days: float) -> int:
    """Delete keys stored more than ``days`` ago (retention); returns how many went."""
    status = await pool.execute(
        "DELETE FROM kamu_idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
        float(days) * 86400,
    )
    return int(status.split()[-1])
