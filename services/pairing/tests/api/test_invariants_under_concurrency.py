"""Every cross-aggregate invariant holds when requests race, against the real database."""

import asyncio

import pytest


async def accept_all(service, kamu_of: dict[str, str]) -> list:
    """Accept every pairing at the same moment, each by its own Kamu."""

    async def accept(pairing_id: str, kamu: str):
        async with service.as_(kamu) as client:
            return await client.post(f"/pairings/{pairing_id}/accept")

    return await asyncio.gather(*(accept(p, k) for p, k in kamu_of.items()))


@pytest.mark.slow
async def test_ten_simultaneous_acceptances_for_a_kamu_with_capacity_three_give_three(service):
    await service.kamu("kim", capacity=3, hours=40)
    pairings = {}
    for i in range(10):
        await service.person(f"c{i}")
        pairings[await service.request(f"c{i}", "kim")] = "kim"

    answers = await accept_all(service, pairings)

    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 3 + [409] * 7
    assert {a.json()["type"] for a in answers if a.status_code == 409} == {
        "/problems/kamu-at-capacity"
    }
    assert (
        await service.count(
            "SELECT count(*) FROM pairing_pairings WHERE kamu_id = 'kim' AND status = 'active'"
        )
        == 3
    )
    assert (
        await service.count("SELECT active_colleagues FROM pairing_kamus WHERE person_id = 'kim'")
        == 3
    )
    assert (
        await service.count(
            "SELECT count(*) FROM kamu_events WHERE event_type = 'kamu.pairing.pairing-created.v1'"
        )
        == 3
    )


@pytest.mark.slow
async def test_simultaneous_acceptances_never_exceed_the_kamus_hours(service):
    # Every pairing costs 60 min every 2 weeks = 2.17 h a month: two fit in 5 hours, three do not.
    await service.kamu("kim", capacity=10, hours=5)
    pairings = {}
    for i in range(6):
        await service.person(f"c{i}")
        pairings[await service.request(f"c{i}", "kim")] = "kim"

    answers = await accept_all(service, pairings)

    assert sorted(a.status_code for a in answers) == [200] * 2 + [409] * 4
    assert await service.count("SELECT count(*) FROM pairing_pairings WHERE status = 'active'") == 2
    used = await service.pool.fetchval(
        "SELECT hours_used FROM pairing_kamus WHERE person_id = 'kim'"
    )
    assert used == pytest.approx(2 * 60 / 60 * 52 / 12 / 2)


@pytest.mark.slow
async def test_a_colleague_gets_at_most_one_kamu_when_several_accept_at_once(service):
    await service.person("cole")
    pairings = {}
    for i in range(5):
        await service.kamu(f"k{i}")
        pairings[await service.request("cole", f"k{i}")] = f"k{i}"

    answers = await accept_all(service, pairings)

    assert sorted(a.status_code for a in answers) == [200] + [409] * 4
    assert {a.json()["type"] for a in answers if a.status_code == 409} == {
        "/problems/already-paired"
    }
    assert (
        await service.count(
            "SELECT count(*) FROM pairing_pairings "
            "WHERE colleague_id = 'cole' AND status = 'active'"
        )
        == 1
    )
    # The refused acceptances left no trace: one pairing-created, one Kamu with a colleague.
    assert (
        await service.count(
            "SELECT count(*) FROM kamu_events WHERE event_type = 'kamu.pairing.pairing-created.v1'"
        )
        == 1
    )
    assert await service.count("SELECT sum(active_colleagues) FROM pairing_kamus") == 1


@pytest.mark.slow
async def test_the_same_pairing_accepted_twice_at_once_is_accepted_once(service):
    await service.person("cole")
    await service.kamu("kim")
    pairing_id = await service.request("cole", "kim")

    async def accept(role_sub):
        async with service.as_(*role_sub) as client:
            return await client.post(f"/pairings/{pairing_id}/accept")

    answers = await asyncio.gather(accept(("kim",)), accept(("ops", "people-ops")))

    assert sorted(a.status_code for a in answers) == [200, 409]
    assert (
        await service.count("SELECT active_colleagues FROM pairing_kamus WHERE person_id = 'kim'")
        == 1
    )


@pytest.mark.slow
async def test_acceptances_racing_a_retirement_never_exceed_what_the_row_allowed(service):
    """Retiring and accepting update the Kamu's row in turns: whatever wins, the counts agree
    and once retired, nothing more is accepted."""
    await service.kamu("kim", capacity=10, hours=40)
    pairings = {}
    for i in range(6):
        await service.person(f"c{i}")
        pairings[await service.request(f"c{i}", "kim")] = "kim"

    async def retire():
        async with service.as_("kim") as kim:
            return await kim.delete("/kamus/kim")

    answers = await asyncio.gather(
        retire(), *(accept_all(service, {p: k}) for p, k in pairings.items())
    )
    accepted = [a[0] for a in answers[1:] if a[0].status_code == 200]
    refused = [a[0] for a in answers[1:] if a[0].status_code == 409]

    assert answers[0].status_code == 204
    assert len(accepted) + len(refused) == 6
    assert {r.json()["type"] for r in refused} <= {"/problems/kamu-retired"}
    assert await service.count(
        "SELECT active_colleagues FROM pairing_kamus WHERE person_id = 'kim'"
    ) == len(accepted)
    leftover = next((p for p in pairings if p not in {a.json()["id"] for a in accepted}), None)
    async with service.as_("kim") as kim:
        if leftover is not None:  # a request still open: it can no longer be accepted
            late = await kim.post(f"/pairings/{leftover}/accept")
        else:  # every acceptance won the race: a new request is refused instead
            await service.person("late")
            async with service.as_("late") as newcomer:
                late = await newcomer.post(
                    "/pairings", json={"colleague_id": "late", "kamu_id": "kim"}
                )
    assert late.status_code == 409
    assert late.json()["type"] == "/problems/kamu-retired"


@pytest.mark.slow
async def test_a_person_leaving_while_their_request_is_accepted_gets_one_outcome(service):
    """Leaving closes the open request in the pairing's own stream, so it and an acceptance
    take turns: the pairing ends up declined, or active and then ended, never active after."""
    await service.person("cole")
    await service.kamu("kim")
    pairing_id = await service.request("cole", "kim")

    async def leave():
        async with service.as_("hr", "service") as hr:
            return await hr.delete("/people/kim")

    async def accept():
        async with service.as_("ops", "people-ops") as ops:
            return await ops.post(f"/pairings/{pairing_id}/accept")

    left, accepted = await asyncio.gather(leave(), accept())

    status = await service.pool.fetchval(
        "SELECT status FROM pairing_pairings WHERE pairing_id = $1", pairing_id
    )
    assert left.status_code in (204, 409)  # 409: the pairing moved under it; retried below
    if left.status_code == 409:
        async with service.as_("hr", "service") as hr:
            assert (await hr.delete("/people/kim")).status_code == 204
        status = await service.pool.fetchval(
            "SELECT status FROM pairing_pairings WHERE pairing_id = $1", pairing_id
        )
    assert status in ("declined", "ended")
    assert (
        await service.count("SELECT active_colleagues FROM pairing_kamus WHERE person_id = 'kim'")
        == 0
    )
    assert accepted.status_code in (200, 409)
