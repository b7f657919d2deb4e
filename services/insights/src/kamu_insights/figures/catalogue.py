# ruff: noqa: S608 - the only interpolations are our own schema names and group expressions
"""Every programme figure: the SQL over the facts and what is derived from it.

Every query takes the same parameters: month starts ($1), ends ($2), as-of instants ($3) and
now ($4). ``grp`` is the breakdown's group and ``whole`` marks the row for everyone.
"""

from kamu_insights.figures.engine import Figure, Kind, Values, average, median, percentile, share
from kamu_insights.projections.goals import SCHEMA as G
from kamu_insights.projections.meetings import SCHEMA as M
from kamu_insights.projections.notifications import SCHEMA as N
from kamu_insights.projections.pairing import SCHEMA as P

MONTHS = """
WITH m AS (
    SELECT * FROM unnest($1::timestamptz[], $2::timestamptz[], $3::timestamptz[])
        WITH ORDINALITY AS m(starts, ends, asof, i)
)"""
NOW = "$4::timestamptz"
# Each row is one group's cell (``grp``) or, where ``whole``, everyone's: both in one scan.
MONTHLY = "SELECT m.i, {group} AS grp, GROUPING({group}) = 1 AS whole,"
BY_MONTH = "GROUP BY GROUPING SETS ((m.i, {group}), (m.i))"
ONCE = "SELECT {group} AS grp, GROUPING({group}) = 1 AS whole,"
BY_GROUP = "GROUP BY GROUPING SETS (({group}), ())"
TEAM = "coalesce(pe.team, '')"
# A pairing active at an instant t: it began before t and had not closed by then.
ACTIVE_AT = "x.paired_at < {t} AND (x.closed_at IS NULL OR x.closed_at >= {t})"
# A person belongs to the organisation from the day they joined (HR), else from their sync.
JOINED = "coalesce(p.joined_on::timestamp AT TIME ZONE 'UTC', p.registered_at)"


def _coverage(v: Values) -> Values:
    return {"share": share(v.get("covered", 0), v.get("headcount", 0))}


# Who had an active Kamu at each month's end: one pass over the pairings (a hash join), not a
# lookup per person and month.
COVERED = f"""
, covered AS (
    SELECT DISTINCT m.i, x.colleague_id FROM m JOIN "{P}".pairings x
      ON {ACTIVE_AT.format(t="m.asof")}
)"""

COVERAGE = Figure(
    name="coverage",
    title="People with an active Kamu",
    kind=Kind.STOCK,
    people_are="people in the organisation (or team) at the month's end",
    dimensions={"team": "coalesce(p.team, '')"},
    derive=_coverage,
    sql=MONTHS
    + COVERED
    + f"""
{MONTHLY}
       count(*) AS people, count(*) AS headcount, count(c.colleague_id) AS covered
FROM m JOIN "{P}".people p
  ON {JOINED} < m.asof AND (p.left_at IS NULL OR p.left_at >= m.asof)
LEFT JOIN covered c ON c.i = m.i AND c.colleague_id = p.person_id
WHERE $4::timestamptz IS NOT NULL
{BY_MONTH}
""",
)


def _load(v: Values) -> Values:
    return {
        "utilisation": share(v.get("pairings", 0), v.get("capacity", 0)),
        "hours_share": share(v.get("hours_met", 0), v.get("hours_allocated", 0)),
    }


LOAD = Figure(
    name="kamu-load",
    title="Kamu load against capacity and allocated hours",
    kind=Kind.STOCK,
    people_are="Kamus (volunteering, or in an active pairing) at the month's end",
    dimensions={"team": TEAM},
    derive=_load,
    # Pairings and meeting minutes per Kamu and month, each in one pass, then joined.
    sql=MONTHS
    + f"""
, paired AS (
    SELECT m.i, x.kamu_id, count(*) AS pairings FROM m JOIN "{P}".pairings x
      ON {ACTIVE_AT.format(t="m.asof")}
    GROUP BY m.i, x.kamu_id
), met AS (
    SELECT m.i, mt.kamu_id, sum(coalesce(mt.duration_minutes, 0)) AS minutes
    FROM m JOIN "{M}".meetings mt ON mt.held_at >= m.starts AND mt.held_at < m.ends
    GROUP BY m.i, mt.kamu_id
)
{MONTHLY}
       count(*) AS people, count(*) AS kamus,
       sum(k.capacity) AS capacity, sum(coalesce(a.pairings, 0)) AS pairings,
       count(*) FILTER (WHERE coalesce(a.pairings, 0) >= k.capacity) AS at_capacity,
       sum(k.hours_per_month) AS hours_allocated,
       round(coalesce(sum(h.minutes), 0) / 60.0, 1) AS hours_met
FROM m CROSS JOIN "{P}".kamus k
LEFT JOIN "{P}".people pe ON pe.person_id = k.person_id
LEFT JOIN paired a ON a.i = m.i AND a.kamu_id = k.person_id
LEFT JOIN met h ON h.i = m.i AND h.kamu_id = k.person_id
WHERE (k.volunteered_at < m.asof OR a.pairings > 0)
  AND (k.retired_at IS NULL OR k.retired_at >= m.asof)
  AND (pe.left_at IS NULL OR pe.left_at >= m.asof) AND $4::timestamptz IS NOT NULL
{BY_MONTH}
""",
)


def _days(v: Values) -> Values:
    days = v.get("days", [])
    return {"median_days": median(days), "p90_days": percentile(days, 90)}


TIME_TO_PAIR = Figure(
    name="time-to-pair",
    title="Days from a request to an active pairing",
    kind=Kind.FLOW,
    people_are="colleagues paired in the month (pairings moved in with their history excluded)",
    dimensions={"team": TEAM},
    derive=_days,
    lists=("days",),
    sql=MONTHS
    + f"""
{MONTHLY}
       count(DISTINCT x.colleague_id) AS people, count(*) AS pairings,
       array_agg(extract(epoch FROM x.paired_at - x.requested_at) / 86400.0) AS days
FROM m JOIN "{P}".pairings x
  ON x.paired_at >= m.starts AND x.paired_at < m.ends
 AND NOT x.imported AND x.requested_at IS NOT NULL
LEFT JOIN "{P}".people pe ON pe.person_id = x.colleague_id
WHERE $4::timestamptz IS NOT NULL
{BY_MONTH}
""",
)


def _first_meeting(v: Values) -> Values:
    return {
        "met_share": share(v.get("met", 0), v.get("pairings", 0)),
        **_days(v),
    }


FIRST_MEETING = Figure(
    name="first-meeting",
    title="Days from pairing to the first held meeting",
    kind=Kind.FLOW,
    people_are="colleagues paired in the month (pairings moved in with their history excluded: "
    "their first meeting may predate Kamu)",
    dimensions={"team": TEAM},
    derive=_first_meeting,
    lists=("days",),
    sql=MONTHS
    + f"""
{MONTHLY}
       count(DISTINCT x.colleague_id) AS people, count(*) AS pairings,
       count(f.first_at) AS met,
       coalesce(array_agg(extract(epoch FROM f.first_at - x.paired_at) / 86400.0)
                FILTER (WHERE f.first_at IS NOT NULL), '{{{{}}}}'::numeric[]) AS days
FROM m JOIN "{P}".pairings x
  ON x.paired_at >= m.starts AND x.paired_at < m.ends AND NOT x.imported
LEFT JOIN "{P}".people pe ON pe.person_id = x.colleague_id
LEFT JOIN LATERAL (
    SELECT min(mt.held_at) AS first_at FROM "{M}".meetings mt
    WHERE mt.pairing_id = x.pairing_id AND mt.held_at <= {NOW}) f ON true
{BY_MONTH}
""",
)


def _cadence(v: Values) -> Values:
    return {"adherence": share(v.get("on_cadence", 0), v.get("pairings", 0))}


CADENCE = Figure(
    name="cadence",
    title="Pairings that met within their cadence",
    kind=Kind.STOCK,
    people_are="colleagues in pairings active for at least one cadence at the month's end",
    dimensions={"team": TEAM},
    derive=_cadence,
    sql=MONTHS
    + f"""
{MONTHLY}
       count(DISTINCT x.colleague_id) AS people, count(*) AS pairings,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM "{M}".meetings mt
           WHERE mt.pairing_id = x.pairing_id AND mt.held_at <= m.asof
             AND mt.held_at > m.asof - make_interval(weeks => x.cadence_weeks))) AS on_cadence
FROM m JOIN "{P}".pairings x
  ON x.paired_at <= m.asof - make_interval(weeks => x.cadence_weeks)
 AND (x.closed_at IS NULL OR x.closed_at >= m.asof)
LEFT JOIN "{P}".people pe ON pe.person_id = x.colleague_id
WHERE $4::timestamptz IS NOT NULL
{BY_MONTH}
""",
)


def _overdue(v: Values) -> Values:
    return {"overdue_share": share(v.get("overdue", 0), v.get("pairings", 0))}


OVERDUE = Figure(
    name="overdue",
    title="Active pairings overdue for a meeting now",
    kind=Kind.NOW,
    people_are="colleagues in active pairings",
    dimensions={"team": TEAM},
    derive=_overdue,
    sql=MONTHS
    + f"""
{ONCE}
       count(DISTINCT x.colleague_id) AS people, count(*) AS pairings,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM "{M}".lapses l
           WHERE l.pairing_id = x.pairing_id AND l.since >= coalesce(
               (SELECT max(mt.held_at) FROM "{M}".meetings mt
                WHERE mt.pairing_id = x.pairing_id), '-infinity'))) AS overdue
FROM "{P}".pairings x
LEFT JOIN "{P}".people pe ON pe.person_id = x.colleague_id
WHERE x.paired_at <= {NOW} AND x.closed_at IS NULL
  AND (SELECT count(*) FROM m) >= 0
{BY_GROUP}
""",
)


def _waiting(v: Values) -> Values:
    return _days(v)


WAITING = Figure(
    name="waiting",
    title="Requests waiting for an answer now",
    kind=Kind.NOW,
    people_are="colleagues waiting for an answer",
    dimensions={"team": TEAM},
    derive=_waiting,
    lists=("days",),
    sql=MONTHS
    + f"""
{ONCE}
       count(DISTINCT x.colleague_id) AS people, count(*) AS requests,
       array_agg(extract(epoch FROM {NOW} - x.requested_at) / 86400.0) AS days
FROM "{P}".pairings x
LEFT JOIN "{P}".people pe ON pe.person_id = x.colleague_id
WHERE x.status = 'requested' AND x.requested_at <= {NOW}
  AND (SELECT count(*) FROM m) >= 0
{BY_GROUP}
""",
)


def _goals(v: Values) -> Values:
    return {"on_time_share": share(v.get("reviewed_on_time", 0), v.get("reviewed", 0))}


GOALS = Figure(
    name="goals",
    title="Goals set, reviewed on time and completed",
    kind=Kind.FLOW,
    people_are="goal owners who set, reviewed or closed a goal in the month",
    dimensions={"team": TEAM, "category": "f.category"},
    overlapping=frozenset({"category"}),
    derive=_goals,
    sql=MONTHS
    + f"""
, f AS (
    SELECT owner_id, category, set_at AS at, 1 AS s, 0 AS r, 0 AS ot, 0 AS c, 0 AS a
    FROM "{G}".goals
    UNION ALL
    SELECT r.owner_id, coalesce(g.category, ''), r.reviewed_at, 0, 1, r.on_time::int, 0, 0
    FROM "{G}".reviews r LEFT JOIN "{G}".goals g USING (goal_id)
    UNION ALL
    SELECT owner_id, category, closed_at, 0, 0, 0,
           (status = 'completed')::int, (status = 'abandoned')::int
    FROM "{G}".goals WHERE closed_at IS NOT NULL
)
{MONTHLY}
       count(DISTINCT f.owner_id) AS people, sum(f.s) AS set, sum(f.r) AS reviewed,
       sum(f.ot) AS reviewed_on_time, sum(f.c) AS completed, sum(f.a) AS abandoned
FROM m JOIN f ON f.at >= m.starts AND f.at < m.ends
LEFT JOIN "{P}".people pe ON pe.person_id = f.owner_id
WHERE $4::timestamptz IS NOT NULL
{BY_MONTH}
""",
)


def _feedback(v: Values) -> Values:
    return {
        "psychological_safety": average(v.get("safety_total", 0), v.get("ratings", 0)),
        "usefulness": average(v.get("usefulness_total", 0), v.get("ratings", 0)),
    }


FEEDBACK = Figure(
    name="feedback",
    title="Meeting feedback: psychological safety and usefulness (1 to 5)",
    kind=Kind.FLOW,
    people_are="colleagues whose meetings held in the month were rated (by them or their Kamu)",
    dimensions={"team": TEAM},
    derive=_feedback,
    sql=MONTHS
    + f"""
{MONTHLY}
       count(DISTINCT r.colleague_id) AS people, count(*) AS ratings,
       sum(r.psychological_safety) AS safety_total, sum(r.usefulness) AS usefulness_total
FROM m JOIN "{M}".ratings r ON r.held_at >= m.starts AND r.held_at < m.ends
LEFT JOIN "{P}".people pe ON pe.person_id = r.colleague_id
WHERE $4::timestamptz IS NOT NULL
{BY_MONTH}
""",
)


def _notifications(v: Values) -> Values:
    total = v.get("sent", 0) + v.get("failed", 0)
    return {"failed_share": share(v.get("failed", 0), total)}


NOTIFICATIONS = Figure(
    name="notifications",
    title="Notifications sent, failed and turned off, by channel",
    kind=Kind.FLOW,
    people_are="people notified in the month",
    # By channel only: by the recipient's team, a figure about messages adds little and would
    # cost a second pass (a whole shown beside two breakdowns is checked under both).
    dimensions={"channel": "d.channel"},
    overlapping=frozenset({"channel"}),
    derive=_notifications,
    sql=MONTHS
    + f"""
{MONTHLY}
       count(DISTINCT d.recipient_id) AS people,
       count(*) FILTER (WHERE d.outcome = 'sent') AS sent,
       count(*) FILTER (WHERE d.outcome = 'failed') AS failed,
       count(*) FILTER (WHERE d.outcome = 'suppressed') AS suppressed
FROM m JOIN "{N}".deliveries d ON d.at >= m.starts AND d.at < m.ends
WHERE $4::timestamptz IS NOT NULL
{BY_MONTH}
""",
)

FIGURES = {
    f.name: f
    for f in (
        COVERAGE,
        LOAD,
        TIME_TO_PAIR,
        FIRST_MEETING,
        CADENCE,
        OVERDUE,
        WAITING,
        GOALS,
        FEEDBACK,
        NOTIFICATIONS,
    )
}
