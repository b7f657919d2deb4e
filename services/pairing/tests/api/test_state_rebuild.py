"""The state tables are a read model: dropped and rebuilt from the stored events, they are equal."""

from kamu_pairing.read_models.state import STATE_TABLES, rebuild_state


async def snapshot(pool) -> dict[str, list]:
    return {
        table: sorted(
            (tuple(r.values()) for r in await pool.fetch(f"SELECT * FROM {table}")), key=repr
        )
        for table in STATE_TABLES
    }


async def test_rebuilt_state_equals_the_live_state(service):
    await service.person("cole", manager_id="boss")
    await service.person("dan")
    await service.kamu("kim", capacity=2)
    first = await service.request("cole", "kim")
    second = await service.request("dan", "kim")
    async with service.as_("kim") as kim:
        await kim.post(f"/pairings/{first}/accept")
        await kim.post(f"/pairings/{second}/accept")
        await kim.post(f"/pairings/{second}/end")
        await kim.post("/kamus/kim/pause")
    async with service.as_("hr", "service") as hr:
        await hr.delete("/people/dan")
    live = await snapshot(service.pool)
    counts = []

    replayed = await rebuild_state(service.pool, counts.append)

    assert replayed == await service.count("SELECT count(*) FROM kamu_events")
    assert counts[-1] == replayed
    assert await snapshot(service.pool) == live
    assert all(live[table] for table in STATE_TABLES)
