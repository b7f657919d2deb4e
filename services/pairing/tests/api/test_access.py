"""Who may see and do what: a resource the caller may not see answers 404, an action they may
not take on one they can see answers 403, and a refused caller writes nothing. Then what each
one is shown: the request message only to the two people, a change request never to the Kamu.
"""

from typing import Any

import pytest

OPS = ("ops", "people-ops")
ADMIN = ("root", "admin")
HR = ("hr-sync", "service")
KIM = ("kim",)  # the Kamu of both pairings
COLE = ("cole",)  # asked kim: {requested}
DAN = ("dan",)  # kim's colleague: {active}
EVE = ("eve",)  # a plain employee, in no pairing

PERSON = {"display_name": "Eve", "email": "eve@example.org", "team": "web"}
KAMU = {"capacity": 2, "hours_per_month": 8}
TRAINING = {"training": "basics-2", "completed_on": "2026-02-01"}
MESSAGE = "I freeze in front of the whole team"


async def world(service) -> dict[str, str]:
    """cole asked kim (requested, with a message), dan is kim's colleague (active)."""
    for person in ("cole", "dan", "eve"):
        await service.person(person)
    await service.kamu("kim")
    requested = await service.request("cole", "kim", message=MESSAGE)
    active = await service.request("dan", "kim", message=MESSAGE)
    async with service.as_(*KIM) as kim:
        assert (await kim.post(f"/pairings/{active}/accept")).status_code == 200
    return {"requested": requested, "active": active}


async def written(service) -> dict[str, Any]:
    """Every row a command could write: events, idempotency keys and the state tables."""
    counts = ("kamu_events", "kamu_idempotency_keys")
    rows = {t: await service.count(f"SELECT count(*) FROM {t}") for t in counts}
    for table in ("pairing_people", "pairing_kamus", "pairing_pairings"):
        rows[table] = [
            dict(r) for r in await service.pool.fetch(f"SELECT * FROM {table} ORDER BY 1")
        ]
    return rows


def rule(who: str, caller, method: str, path: str, status: int, body: Any = None) -> Any:
    return pytest.param(caller, method, path, body, status, id=f"{method} {path}: {who} {status}")


R, A = "{requested}", "{active}"
ACCESS = [
    # A person's profile: themself, People Operations, services (the HR sync), admins.
    *(
        rule(who, caller, "GET", "/people/cole", status)
        for who, caller, status in (
            ("themself", COLE, 200),
            ("people-ops", OPS, 200),
            ("service", HR, 200),
            ("admin", ADMIN, 200),
            ("their Kamu-to-be", KIM, 404),
            ("another employee", EVE, 404),
        )
    ),
    # A person's pairings: themself and People Operations only, not even their Kamu.
    *(
        rule(who, caller, "GET", "/people/cole/pairings", status)
        for who, caller, status in (
            ("themself", COLE, 200),
            ("people-ops", OPS, 200),
            ("admin", ADMIN, 200),
            ("their Kamu-to-be", KIM, 404),
            ("another employee", EVE, 404),
        )
    ),
    rule("the Kamu", KIM, "GET", "/people/kim/pairings", 200),
    rule("one of the Kamu's colleagues", DAN, "GET", "/people/kim/pairings", 404),
    # A Kamu's profile: the Kamu and People Operations.
    rule("the Kamu", KIM, "GET", "/kamus/kim", 200),
    rule("people-ops", OPS, "GET", "/kamus/kim", 200),
    rule("a colleague", DAN, "GET", "/kamus/kim", 404),
    # HR data: the sync (a service) and People Operations; nobody edits their own.
    rule("service", HR, "PUT", "/people/eve", 200, PERSON),
    rule("people-ops", OPS, "PUT", "/people/eve", 200, PERSON),
    rule("themself", EVE, "PUT", "/people/eve", 403, PERSON),
    rule("another employee", COLE, "PUT", "/people/eve", 403, PERSON),
    rule("service", HR, "DELETE", "/people/eve", 204),
    rule("themself", EVE, "DELETE", "/people/eve", 403),
    # Volunteering, retiring, pausing: the person themself or People Operations.
    rule("themself", EVE, "PUT", "/kamus/eve", 201, KAMU),
    rule("people-ops", OPS, "PUT", "/kamus/eve", 201, KAMU),
    rule("another employee", COLE, "PUT", "/kamus/eve", 404, KAMU),
    rule("the Kamu", KIM, "DELETE", "/kamus/kim", 204),
    rule("people-ops", OPS, "DELETE", "/kamus/kim", 204),
    rule("a colleague", DAN, "DELETE", "/kamus/kim", 404),
    rule("the Kamu", KIM, "POST", "/kamus/kim/pause", 200),
    rule("people-ops", OPS, "POST", "/kamus/kim/pause", 200),
    rule("a colleague", DAN, "POST", "/kamus/kim/pause", 404),
    rule("the Kamu", KIM, "POST", "/kamus/kim/resume", 200),
    rule("a colleague", DAN, "POST", "/kamus/kim/resume", 404),
    # Training: People Operations only, not the Kamu, not a service.
    rule("people-ops", OPS, "POST", "/kamus/kim/training", 200, TRAINING),
    rule("admin", ADMIN, "POST", "/kamus/kim/training", 200, TRAINING),
    rule("the Kamu", KIM, "POST", "/kamus/kim/training", 403, TRAINING),
    rule("an employee", EVE, "POST", "/kamus/kim/training", 403, TRAINING),
    rule("service", HR, "POST", "/kamus/kim/training", 403, TRAINING),
    # Asking for a Kamu: for oneself; People Operations for anyone.
    *(
        rule(who, caller, "POST", "/pairings", status, {"colleague_id": "eve", "kamu_id": "kim"})
        for who, caller, status in (
            ("the colleague", EVE, 201),
            ("people-ops", OPS, 201),
            ("another employee", COLE, 403),
            ("the Kamu", KIM, 403),
        )
    ),
    # Accept and decline: the Kamu or People Operations; the colleague 403, a stranger 404.
    *(
        rule(who, caller, "POST", f"/pairings/{R}/{action}", status)
        for action in ("accept", "decline")
        for who, caller, status in (
            ("the Kamu", KIM, 200),
            ("people-ops", OPS, 200),
            ("the colleague", COLE, 403),
            ("a stranger", EVE, 404),
            ("another of the Kamu's colleagues", DAN, 404),
            ("a service", HR, 404),
        )
    ),
    # Withdraw: the colleague or People Operations.
    rule("the colleague", COLE, "POST", f"/pairings/{R}/withdraw", 200),
    rule("people-ops", OPS, "POST", f"/pairings/{R}/withdraw", 200),
    rule("the Kamu", KIM, "POST", f"/pairings/{R}/withdraw", 403),
    rule("a stranger", EVE, "POST", f"/pairings/{R}/withdraw", 404),
    # End: either of the two, or People Operations.
    rule("the colleague", DAN, "POST", f"/pairings/{A}/end", 200),
    rule("the Kamu", KIM, "POST", f"/pairings/{A}/end", 200),
    rule("people-ops", OPS, "POST", f"/pairings/{A}/end", 200),
    rule("a stranger", EVE, "POST", f"/pairings/{A}/end", 404),
    # Change request: the colleague only (People Operations receives it, does not make it).
    rule("the colleague", DAN, "POST", f"/pairings/{A}/change-request", 200),
    rule("people-ops", OPS, "POST", f"/pairings/{A}/change-request", 403),
    rule("the Kamu", KIM, "POST", f"/pairings/{A}/change-request", 403),
    rule("a stranger", EVE, "POST", f"/pairings/{A}/change-request", 404),
    # A pairing: its two people and People Operations.
    rule("the colleague", DAN, "GET", f"/pairings/{A}", 200),
    rule("the Kamu", KIM, "GET", f"/pairings/{A}", 200),
    rule("people-ops", OPS, "GET", f"/pairings/{A}", 200),
    rule("a stranger", EVE, "GET", f"/pairings/{A}", 404),
    rule("another colleague of the Kamu", COLE, "GET", f"/pairings/{A}", 404),
    # Programme coverage: People Operations only; anyone else does not learn it exists.
    rule("people-ops", OPS, "GET", "/coverage", 200),
    rule("admin", ADMIN, "GET", "/coverage", 200),
    rule("an employee", EVE, "GET", "/coverage", 404),
    rule("the Kamu", KIM, "GET", "/coverage", 404),
    rule("a service", HR, "GET", "/coverage", 404),
    # The Kamu list: available ones for any employee, all of them for People Operations.
    rule("an employee", EVE, "GET", "/kamus?available=true", 200),
    rule("people-ops", OPS, "GET", "/kamus?available=true", 200),
    rule("an employee", EVE, "GET", "/kamus", 403),
    rule("an employee", EVE, "GET", "/kamus?available=false", 403),
    rule("the Kamu", KIM, "GET", "/kamus", 403),
    rule("people-ops", OPS, "GET", "/kamus", 200),
    rule("an employee", EVE, "GET", "/kamus?available=true&near_limit=true", 403),
    rule("people-ops", OPS, "GET", "/kamus?near_limit=true", 200),
]


@pytest.mark.parametrize(("caller", "method", "path", "body", "status"), ACCESS)
async def test_who_may_see_and_do_what(service, caller, method, path, body, status):
    ids = await world(service)
    before = await written(service)

    async with service.as_(*caller) as client:
        response = await client.request(method, path.format(**ids), json=body)

    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == (
            "/problems/forbidden" if status == 403 else "/problems/not-found"
        )
        assert await written(service) == before


async def test_the_request_message_is_for_the_two_people_never_for_people_operations(service):
    ids = await world(service)
    requested = f"/pairings/{ids['requested']}"

    async with service.as_(*COLE) as cole, service.as_(*KIM) as kim:
        by_colleague = (await cole.get(requested)).json()
        by_kamu = (await kim.get(requested)).json()
        kamus_pending = (await kim.get("/people/kim/pairings")).json()["pending"]
    async with service.as_(*OPS) as ops, service.as_(*ADMIN) as admin:
        by_ops = (await ops.get(requested)).json()
        by_admin = (await admin.get(requested)).json()
        ops_lists = [(await ops.get(f"/people/{p}/pairings")).json() for p in ("cole", "kim")]
        asked_by_ops = await ops.post(
            "/pairings", json={"colleague_id": "eve", "kamu_id": "kim", "message": MESSAGE}
        )
        accepted_by_ops = await ops.post(f"{requested}/accept")
        ended_by_ops = await ops.post(f"/pairings/{ids['active']}/end")

    assert by_colleague["message"] == by_kamu["message"] == MESSAGE
    assert [p["message"] for p in kamus_pending] == [MESSAGE]
    assert by_ops["message"] is None
    assert by_admin["message"] is None
    for listing in ops_lists:
        shown = [listing["kamu"], *listing["colleagues"], *listing["pending"]]
        assert [p["message"] for p in shown if p] == [None] * len([p for p in shown if p])
        assert MESSAGE not in str(listing)
    for answer in (asked_by_ops, accepted_by_ops, ended_by_ops):
        assert answer.status_code in (200, 201), answer.text
        assert answer.json()["message"] is None
        assert MESSAGE not in answer.text
    stored = await service.count(
        "SELECT count(*) FROM pairing_pairings WHERE message = $1", MESSAGE
    )
    assert stored == 3  # still there for the two people: hidden, not lost


async def test_the_kamu_never_sees_that_the_colleague_asked_for_a_change(service):
    ids = await world(service)
    active = f"/pairings/{ids['active']}"
    async with service.as_(*DAN) as dan:
        asked = await dan.post(f"{active}/change-request")

    async with service.as_(*KIM) as kim:
        kamu_view = (await kim.get(active)).json()
        kamu_list = (await kim.get("/people/kim/pairings")).json()["colleagues"]
    async with service.as_("kim", "employee", "people-ops") as kim_in_ops:
        kamu_in_ops_view = (await kim_in_ops.get(active)).json()
    async with service.as_(*DAN) as dan:
        colleague_view = (await dan.get(active)).json()
    async with service.as_(*OPS) as ops:
        ops_view = (await ops.get(active)).json()
    async with service.as_(*KIM) as kim:
        ended_by_kamu = (await kim.post(f"{active}/end")).json()
        after_the_end = (await kim.get(active)).json()

    assert asked.status_code == 200, asked.text
    assert asked.json()["change_requested"] is True
    assert colleague_view["change_requested"] is True
    assert ops_view["change_requested"] is True
    for seen_by_kamu in (kamu_view, *kamu_list, kamu_in_ops_view, ended_by_kamu, after_the_end):
        assert seen_by_kamu["change_requested"] is None
    assert ended_by_kamu["status"] == "ended"


async def test_the_kamus_view_of_a_pairing_does_not_move_when_a_change_is_asked(service):
    ids = await world(service)
    active = f"/pairings/{ids['active']}"
    async with service.as_(*KIM) as kim:
        before = (await kim.get(active)).json()
    async with service.as_(*DAN) as dan:
        assert (await dan.post(f"{active}/change-request")).status_code == 200

    async with service.as_(*KIM) as kim:
        after = (await kim.get(active)).json()

    assert after == before
