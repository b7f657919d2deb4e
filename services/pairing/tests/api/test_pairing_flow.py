"""The programme's main path over HTTP: people, a Kamu, a request, an acceptance, an end."""

from kamu_pairing.domain.events import registry
from kamu_shared.testing.kafka import read_topic
from kamu_shared.testing.waiting import eventually


async def test_a_colleague_gets_a_kamu_and_the_events_reach_the_topic(service, kafka_bootstrap):
    await service.person("cole", manager_id="boss")
    await service.kamu("kim")
    pairing_id = await service.request("cole", "kim", message="I want to set better goals")

    async with service.as_("kim") as kim:
        accepted = await kim.post(f"/pairings/{pairing_id}/accept", json={"cadence_weeks": 3})
        seen_by_kim = await kim.get(f"/pairings/{pairing_id}")
    async with service.as_("cole") as cole:
        mine = await cole.get("/people/cole/pairings")
    async with service.as_("ops", "people-ops") as ops:
        seen_by_ops = await ops.get(f"/pairings/{pairing_id}")
    async with service.as_("eve") as eve:
        seen_by_other = await eve.get(f"/pairings/{pairing_id}")

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "active"
    assert accepted.json()["cadence_weeks"] == 3
    assert accepted.headers["etag"] == '"v2"'
    assert seen_by_kim.json()["message"] == "I want to set better goals"
    assert mine.json()["kamu"]["kamu_id"] == "kim"
    assert seen_by_ops.status_code == 200
    assert seen_by_ops.json()["message"] is None  # People Operations never reads the message
    assert seen_by_other.status_code == 404
    assert seen_by_other.headers["content-type"] == "application/problem+json"

    topic = service.app.state.runtime.topic  # shared by this session's tests: filter by subject

    async def ours():
        found = await read_topic(kafka_bootstrap, topic)
        mine = [
            e
            for e in found
            if e.subject in {"person-cole", "person-kim", "kamu-kim", f"pairing-{pairing_id}"}
        ]
        # Earlier tests of the session may have put cole's and kim's events there too: wait
        # for this pairing's own two.
        pairing = [e for e in mine if e.subject == f"pairing-{pairing_id}"]
        return mine if len(mine) >= 6 and len(pairing) >= 2 else None

    envelopes = await eventually(ours)
    pairing_events = [e for e in envelopes if e.subject == f"pairing-{pairing_id}"]
    assert [e.type for e in pairing_events] == [
        "kamu.pairing.pairing-requested.v1",
        "kamu.pairing.pairing-created.v1",
    ]
    for envelope in envelopes:
        assert envelope.source == "/kamu/pairing"
        event = registry.decode_envelope(envelope)  # data fits the documented schema
        assert event is not None
        assert envelope.dataschema == registry.dataschema(type(event))
        assert envelope.actor is not None


async def test_change_requests_stay_confidential_until_the_pairing_ends(service):
    await service.person("cole")
    await service.kamu("kim")
    pairing_id = await service.request("cole", "kim")
    async with service.as_("kim") as kim:
        await kim.post(f"/pairings/{pairing_id}/accept")

    async with service.as_("cole") as cole:
        asked = await cole.post(f"/pairings/{pairing_id}/change-request")
    async with service.as_("kim") as kim:
        kim_view = await kim.get(f"/pairings/{pairing_id}")
        kim_try = await kim.post(f"/pairings/{pairing_id}/change-request")
    async with service.as_("ops", "people-ops") as ops:
        ops_view = await ops.get(f"/pairings/{pairing_id}")
        ended = await ops.post(f"/pairings/{pairing_id}/end")

    assert asked.status_code == 200
    assert asked.json()["change_requested"] is True
    assert kim_view.json()["change_requested"] is None
    assert kim_try.status_code == 403
    assert ops_view.json()["change_requested"] is True
    assert ended.json()["status"] == "ended"


async def test_a_person_who_leaves_ends_their_pairings(service):
    await service.person("cole")
    await service.kamu("kim")
    await service.person("dan")
    active = await service.request("cole", "kim")
    pending = await service.request("dan", "kim")
    async with service.as_("kim") as kim:
        await kim.post(f"/pairings/{active}/accept")

    async with service.as_("hr", "service") as hr:
        left = await hr.delete("/people/kim")
        again = await hr.delete("/people/kim")

    assert (left.status_code, again.status_code) == (204, 204)
    statuses = dict(await service.pool.fetch("SELECT pairing_id, status FROM pairing_pairings"))
    assert statuses == {active: "ended", pending: "declined"}
    assert (
        await service.count("SELECT active_colleagues FROM pairing_kamus WHERE person_id = 'kim'")
        == 0
    )


async def test_a_retried_request_with_its_idempotency_key_creates_one_pairing(service):
    await service.person("cole")
    await service.kamu("kim")
    body = {"colleague_id": "cole", "kamu_id": "kim"}
    async with service.as_("cole") as cole:
        first = await cole.post("/pairings", json=body, headers={"Idempotency-Key": "req-1"})
        retry = await cole.post("/pairings", json=body, headers={"Idempotency-Key": "req-1"})
        reused = await cole.post(
            "/pairings", json={**body, "message": "x"}, headers={"Idempotency-Key": "req-1"}
        )

    assert first.status_code == retry.status_code == 201
    assert first.json()["id"] == retry.json()["id"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert reused.status_code == 422
    assert await service.count("SELECT count(*) FROM pairing_pairings") == 1


async def test_docs_show_every_route_of_the_contract(service):
    async with service.as_("anyone") as client:
        schema = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")

    paths = set(schema["paths"])
    assert docs.status_code == 200
    assert {
        "/people/{person_id}",
        "/kamus/{person_id}",
        "/kamus/{person_id}/training",
        "/kamus",
        "/kamus/suggestions",
        "/pairings",
        "/pairings/{pairing_id}",
        "/pairings/{pairing_id}/accept",
        "/pairings/{pairing_id}/decline",
        "/pairings/{pairing_id}/withdraw",
        "/pairings/{pairing_id}/end",
        "/pairings/{pairing_id}/change-request",
        "/kamus/{person_id}/pause",
        "/kamus/{person_id}/resume",
        "/people/{person_id}/pairings",
    } <= paths
    assert set(schema["paths"]["/people/{person_id}"]) == {"put", "get", "delete"}
