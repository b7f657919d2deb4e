"""``GET /kamus/suggestions`` end to end over 10,000 volunteers, next to its own database read.

    .venv/bin/python -m benchmarks.suggestions [--volunteers N] [--calls N] [--out PATH]

The pairing service runs in-process (its real app, lifespan and all) on real PostgreSQL and
Kafka; volunteers are written straight into its state tables (seeded: 40 teams, 30 time zones,
20 topics, 8 languages). Each call goes through HTTP routing, JWT verification, three queries,
matching and JSON. The route ranks from a per-process copy of the volunteers (refreshed in the
background when older than ``KAMU_SUGGESTIONS_CACHE_SECONDS``, 5 s) and re-checks its shortlist
on fresh rows; calls that coincide with a refresh are in the tail. The baseline, interleaved
call by call, is the full candidate query alone on a raw asyncpg connection: what a route
without the copy pays before it has ranked anything.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from pydantic import SecretStr

from benchmarks.servers import Scratch, Servers, provided_servers
from kamu_pairing.app import create_app
from kamu_pairing.settings import PairingSettings
from kamu_shared.auth.mint import mint_token

SECRET = "benchmark-secret-of-at-least-thirty-two-bytes"  # noqa: S105 - a throwaway stack
ZONES = [
    "Europe/Helsinki",
    "Europe/Stockholm",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Africa/Nairobi",
    "Europe/Madrid",
    "Europe/Warsaw",
    "Asia/Dubai",
    "Pacific/Auckland",
    "America/Toronto",
    "Europe/Paris",
    "Asia/Seoul",
    "Europe/Athens",
    "America/Denver",
    "Asia/Jakarta",
    "Europe/Dublin",
    "Africa/Lagos",
    "Asia/Manila",
    "Europe/Rome",
    "America/Mexico_City",
    "Asia/Shanghai",
    "Europe/Lisbon",
]
TOPICS = [f"topic-{i}" for i in range(20)]
LANGUAGES = ["en", "fi", "sv", "de", "fr", "es", "ja", "pt"]
QUERY = """SELECT k.person_id, k.capacity, k.active_colleagues, k.hours_per_month,
       k.hours_used, k.topics, k.languages, cardinality(k.trainings) > 0 AS trained,
       k.status, p.team, p.manager_id, p.time_zone, p.display_name
FROM pairing_kamus k JOIN pairing_people p USING (person_id)
WHERE k.status = 'active' AND p.left_at IS NULL AND k.active_colleagues < k.capacity
  AND k.hours_used + $1 <= k.hours_per_month + 1e-9
  AND (NOT $2 OR cardinality(k.trainings) > 0)"""


async def populate(url: str, volunteers: int, seekers: int) -> None:
    """People and volunteers straight into the state tables (the route reads only those)."""
    rng = random.Random(7)  # noqa: S311 - seeded test data, not secrets
    conn = await asyncpg.connect(url)
    try:
        people = [
            (
                f"p{i}",
                f"Person {i}",
                f"p{i}@example.org",
                f"team-{rng.randrange(40)}",
                f"p{rng.randrange(volunteers + seekers)}",
                rng.choice(ZONES),
                1,
            )
            for i in range(volunteers + seekers)
        ]
        await conn.copy_records_to_table(
            "pairing_people",
            records=people,
            columns=[
                "person_id",
                "display_name",
                "email",
                "team",
                "manager_id",
                "time_zone",
                "version",
            ],
        )
        kamus = [
            (
                f"p{i}",
                "active",
                rng.randint(1, 5),
                float(rng.randint(4, 20)),
                rng.sample(TOPICS, 3),
                rng.sample(LANGUAGES, 2),
                ["basics"] if rng.random() < 0.9 else [],
                rng.randint(0, 2),
                float(rng.randint(0, 6)),
                1,
            )
            for i in range(volunteers)
        ]
        await conn.copy_records_to_table(
            "pairing_kamus",
            records=kamus,
            columns=[
                "person_id",
                "status",
                "capacity",
                "hours_per_month",
                "topics",
                "languages",
                "trainings",
                "active_colleagues",
                "hours_used",
                "version",
            ],
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "p50": statistics.median(ordered),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


async def measure(servers: Servers, volunteers: int, calls: int) -> dict[str, Any]:
    scratch = Scratch(servers)
    url = await scratch.database("suggest", migrate=False)
    settings = PairingSettings(
        database_url=url,
        kafka_bootstrap=servers.kafka_bootstrap,
        jwt_secret=SecretStr(SECRET),
        log_level="WARNING",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await populate(url, volunteers, calls)
        raw = await asyncpg.connect(url)
        ours_ms, floor_ms, sizes = [], [], []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for n in range(calls):
                seeker = f"p{volunteers + n}"
                token = mint_token(secret=SECRET, sub=seeker, roles=["employee"])
                headers = {"Authorization": f"Bearer {token}"}
                params: dict[str, str | int | list[str]] = {
                    "for": seeker,
                    "limit": 10,
                    "topics": ["topic-1", "topic-2"],
                }
                started = time.perf_counter()
                answer = await client.get("/kamus/suggestions", params=params, headers=headers)
                ours_ms.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
                started = time.perf_counter()
                rows = await raw.fetch(QUERY, 60 / 60 * 52 / 12 / 2, True)
                floor_ms.append((time.perf_counter() - started) * 1000)
                sizes.append(len(rows))
        await raw.close()
    await scratch.drop_all()
    ours, floor = percentiles(ours_ms), percentiles(floor_ms)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "volunteers": volunteers,
        "calls": calls,
        "candidates_fetched_median": statistics.median(sizes),
        "ours_ms": ours,
        "raw_query_ms": floor,
        "ratio_p50": ours["p50"] / floor["p50"],
    }


def markdown(result: dict[str, Any]) -> str:
    ours, floor = result["ours_ms"], result["raw_query_ms"]
    rows = "\n".join(
        f"| {name} | {d['p50']:.1f} | {d['p95']:.1f} | {d['p99']:.1f} | {d['max']:.1f} |"
        for name, d in (
            ("GET /kamus/suggestions (ours, end to end)", ours),
            ("its candidate query alone (raw asyncpg)", floor),
        )
    )
    return f"""# Suggestions route benchmark

Generated by `python -m benchmarks.suggestions` on {result["date"]} ({result["cores"]} cores).
{result["volunteers"]:,} volunteers, {result["calls"]} calls, about
{result["candidates_fetched_median"]:,.0f} candidates fetched per call; milliseconds.

| what | p50 | p95 | p99 | max |
|---|--:|--:|--:|--:|
{rows}

Ratio of the p50s (ours / raw query): {result["ratio_p50"]:.1f}. The target is an answer in
under 50 ms for 10,000 volunteers; the raw query is the floor any implementation pays.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--volunteers", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/suggestions.json"))
    args = parser.parse_args()
    with provided_servers() as servers:
        result = asyncio.run(measure(servers, args.volunteers, args.calls))
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
