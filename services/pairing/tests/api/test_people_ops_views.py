"""What People Operations sees: Kamus near their limit, and coverage without small groups."""


async def test_kamus_near_their_limit_and_available_ones(service):
    await service.kamu("busy", capacity=1)
    await service.kamu("free", capacity=3)
    await service.person("cole")
    pairing_id = await service.request("cole", "busy")
    async with service.as_("busy") as busy:
        await busy.post(f"/pairings/{pairing_id}/accept")

    async with service.as_("ops", "people-ops") as ops:
        near = await ops.get("/kamus", params={"near_limit": "true"})
    async with service.as_("cole") as cole:
        available = await cole.get("/kamus", params={"available": "true"})

    assert [k["id"] for k in near.json()["items"]] == ["busy"]
    assert near.json()["items"][0]["free_places"] == 0
    assert [k["id"] for k in available.json()["items"]] == ["free"]


async def test_available_kamus_page_with_a_cursor(service):
    for i in range(5):
        await service.kamu(f"k{i}")
    async with service.as_("cole") as cole:
        first = await cole.get("/kamus", params={"available": "true", "limit": 2})
        second = await cole.get(
            "/kamus",
            params={"available": "true", "limit": 2, "cursor": first.json()["next_cursor"]},
        )
        last = await cole.get(
            "/kamus",
            params={"available": "true", "limit": 2, "cursor": second.json()["next_cursor"]},
        )

    pages = [[k["id"] for k in page.json()["items"]] for page in (first, second, last)]
    assert pages == [["k0", "k1"], ["k2", "k3"], ["k4"]]
    assert last.json()["next_cursor"] is None


async def test_coverage_by_team_suppresses_groups_under_five(service):
    for i in range(6):
        await service.person(f"core{i}", team="core")
    for i in range(3):
        await service.person(f"tiny{i}", team="tiny")
    await service.kamu("kim", team="core")
    pairing_id = await service.request("core0", "kim")
    async with service.as_("kim") as kim:
        await kim.post(f"/pairings/{pairing_id}/accept")

    async with service.as_("ops", "people-ops") as ops:
        report = (await ops.get("/coverage")).json()

    assert (report["people"], report["with_kamu"], report["without_kamu"]) == (10, 1, 9)
    assert report["teams"] == [{"team": "core", "people": 7, "with_kamu": 1, "kamus": 1}]
    assert report["suppressed_teams"] == 1  # "tiny" has 3 people: not shown on its own
    assert (report["kamu_places_used"], report["kamu_places"]) == (1, 3)
