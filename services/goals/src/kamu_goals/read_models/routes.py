"""Queries: a goal, a person's goals (filtered for the caller), their goals due for review.

The owner sees all their goals; their current Kamu sees those shared during the pairing;
everybody else, People Operations included, gets 404 (they get aggregates, in stats).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from kamu_goals.commands.handling import current_kamu, goal_row, role_of
from kamu_goals.read_models.goals import GoalOut, shown
from kamu_shared.auth.deps import CurrentPrincipal
from kamu_shared.auth.principal import Principal
from kamu_shared.db.pool import Connection
from kamu_shared.runtime import RuntimeDep
from kamu_shared.web.errors import NotFound
from kamu_shared.web.etag import set_etag
from kamu_shared.web.ids import PersonId, ResourceId
from kamu_shared.web.pagination import Page, PageQuery, cursor_text, encode_cursor

router = APIRouter(tags=["queries"])
Status = Annotated[str | None, Query(pattern="^(active|completed|abandoned)$")]


@router.get("/goals/{goal_id}", response_model=GoalOut)
async def get_goal(
    goal_id: ResourceId, principal: CurrentPrincipal, runtime: RuntimeDep, response: Response
) -> GoalOut:
    """A goal with its check-ins, reviews and meetings: its owner, or the Kamu it is shared
    with (history since it was shared with them)."""
    async with runtime.pool.acquire() as conn:
        row = await goal_row(conn, goal_id)
        role = await role_of(conn, principal, row) if row is not None else None
        if row is None or role is None:
            raise NotFound(f"goal {goal_id} not found")
        set_etag(response, row["version"])
        return await shown(conn, row, role)


async def _visible_goals(
    conn: Connection,
    principal: Principal,
    person_id: str,
    *,
    due_only: bool,
    status: str | None,
    after: str,
    limit: int,
) -> tuple[list[Any], str]:
    """The person's goals the caller may see, and the caller's role; 404 for anyone else."""
    if principal.sub == person_id:
        role, shared_since = "owner", None
    else:
        kamu = await current_kamu(conn, person_id)
        if kamu is None or kamu.kamu_id != principal.sub:
            raise NotFound(f"person {person_id} not found")
        role, shared_since = "kamu", kamu.since
    rows = await conn.fetch(
        """SELECT * FROM goals_goals
           WHERE owner_id = $1 AND goal_id > $2
             AND ($3::timestamptz IS NULL OR (visibility = 'kamu' AND shared_with = $4
                                              AND shared_at >= $3))
             AND ($5::text IS NULL OR status = $5)
             AND (NOT $6 OR (status = 'active' AND due_lapses > 0))
           ORDER BY goal_id LIMIT $7""",
        person_id,
        after,
        shared_since,
        principal.sub,
        status,
        due_only,
        limit + 1,
    )
    return list(rows), role


async def _page(
    runtime: Any, principal: Principal, person_id: str, page: Any, *, due: bool, status: str | None
) -> Page[GoalOut]:
    async with runtime.pool.acquire() as conn:
        rows, role = await _visible_goals(
            conn,
            principal,
            person_id,
            due_only=due,
            status=status,
            after=cursor_text(page.cursor, "after") or "",
            limit=page.limit,
        )
        items = [await shown(conn, r, role, history=False) for r in rows[: page.limit]]
    more = len(rows) > page.limit and items
    return Page(items=items, next_cursor=encode_cursor({"after": items[-1].id}) if more else None)


@router.get("/people/{person_id}/goals", response_model=Page[GoalOut])
async def person_goals(
    person_id: PersonId,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    page: PageQuery,
    status: Status = None,
) -> Page[GoalOut]:
    """The person's goals with their latest check-in: all of them for the person, the shared
    ones for their current Kamu."""
    return await _page(runtime, principal, person_id, page, due=False, status=status)


@router.get("/people/{person_id}/goals/due", response_model=Page[GoalOut])
async def person_goals_due(
    person_id: PersonId, principal: CurrentPrincipal, runtime: RuntimeDep, page: PageQuery
) -> Page[GoalOut]:
    """The person's active goals whose review interval passed without a review."""
    return await _page(runtime, principal, person_id, page, due=True, status=None)
