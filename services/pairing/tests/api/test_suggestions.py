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
