"""``GET /kamus/suggestions``: only eligible Kamus, best first, each with its reasons."""


async def test_suggestions_rank_eligible_kamus_and_say_why(service):
    await service.person("cole", team="core", manager_id="boss", time_zone="Europe/Helsinki")
    await service.kamu("boss", team="lead")  # cole's manager: never
    await service.kamu("rookie", team="web", trained=False)  # training required: never
    await service.kamu("paused", team="web")
    async with service.as_("paused") as paused:
        await paused.post("/kamus/paused/pause")
    await service.kamu("near", team="web", time_zone="Europe/Tallinn")
    await service.kamu("far", team="web", time_zone="America/Los_Angeles")
    await service.kamu("mate", team="core", time_zone="Europe/Helsinki")

    async with service.as_("cole") as cole:
        answer = await cole.get("/kamus/suggestions", params={"for": "cole", "topics": "goals"})
        for_someone_else = await cole.get("/kamus/suggestions", params={"for": "near"})
    async with service.as_("ops", "people-ops") as ops:
        for_cole_by_ops = await ops.get("/kamus/suggestions", params={"for": "cole", "limit": 2})

    assert answer.status_code == 200, answer.text
    ids = [item["id"] for item in answer.json()["items"]]
    assert set(ids) == {"near", "far", "mate"}
    assert ids[0] == "near"  # a different team and a close time zone beat the same team
    reasons = {r["code"] for r in answer.json()["items"][0]["reasons"]}
    assert {"shared-topics", "different-team", "trained", "close-time-zone"} <= reasons
    assert for_someone_else.status_code == 404
    assert [i["id"] for i in for_cole_by_ops.json()["items"]] == ids[:2]


async def test_a_kamu_who_just_filled_up_is_not_suggested_from_the_cached_list(service):
    await service.person("cole", team="core")
    await service.person("dan", team="core")
    await service.kamu("solo", team="web", capacity=1)
    await service.kamu("spare", team="web", capacity=3)
    async with service.as_("cole") as cole:
        before = await cole.get("/kamus/suggestions", params={"for": "cole"})  # fills the cache
    pairing_id = await service.request("dan", "solo")
    async with service.as_("solo") as solo:
        await solo.post(f"/pairings/{pairing_id}/accept")

    async with service.as_("cole") as cole:
        after = await cole.get("/kamus/suggestions", params={"for": "cole"})

    assert {i["id"] for i in before.json()["items"]} == {"solo", "spare"}
    assert [i["id"] for i in after.json()["items"]] == ["spare"]
