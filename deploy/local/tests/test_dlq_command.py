"""`./kamu dlq` without servers: which services it asks, what it says, how it exits.

(tests/platform/test_dead_letters.py runs it against a whole platform.)
"""

import importlib

from kamu_devstack.cli import main, show_discarded, show_parked, show_replayed
from kamu_devstack.deadletters import CONSUMERS
from kamu_devstack.services import SERVICES

EVENT = "4b3c9a52-4f7e-4e0e-9d43-3d8d0c0f5d11"
CREATED = "kamu.pairing.pairing-created.v1"


def test_it_asks_every_service_that_has_consumer_groups_and_only_those():
    with_groups = set()
    for name, _ in SERVICES:
        definition = importlib.import_module(f"kamu_{name}.service").DEFINITION
        if definition.reactions or definition.projections:
            with_groups.add(name)

    assert set(CONSUMERS) == with_groups


def test_without_a_running_stack_it_says_how_to_start_one(tmp_path, capsys):
    assert main(["--state-dir", str(tmp_path), "dlq", "list"]) == 2
    assert "./kamu up --detach" in capsys.readouterr().err


def test_the_list_is_a_table_a_line_per_group_the_error_without_its_event_type(capsys):
    rows = [
        {
            "service": service,
            "group": f"{service}.pairing-events",
            "id": n,
            "event_id": EVENT,
            "event_type": CREATED,
            "subject": "pairing-1",
            "parked_at": "2026-12-07T10:00:00+00:00",
            "error": f"{CREATED}: {CREATED} data does not fit PairingCreated: colleague_id "
            + "x" * 300,
        }
        for n, service in enumerate(("meetings", "goals"), 1)
    ]

    assert show_parked(rows, "parked", as_json=False) == 0

    header, *lines, summary = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "SERVICE",
        "GROUP",
        "ID",
        "EVENT_ID",
        "EVENT_TYPE",
        "SUBJECT",
        "PARKED_AT",
        "ERROR",
    ]
    assert [line.split()[:2] for line in lines] == [
        ["meetings", "meetings.pairing-events"],
        ["goals", "goals.pairing-events"],
    ]
    assert all("  data does not fit PairingCreated: colleague_id" in line for line in lines)
    assert all(len(line) < 300 for line in lines)  # the whole error is in --json
    assert summary.startswith("2 parked message(s) of 1 event(s) in 2 group(s)")


def test_an_empty_list_says_so(capsys):
    assert show_parked([], "parked", as_json=False) == 0
    assert capsys.readouterr().out.strip() == "no parked messages in any group of any service"


def _report(service: str, replayed: int, failed: int, still: int) -> dict:
    return {
        "service": service,
        "group": f"{service}.g",
        "replayed": replayed,
        "failed": failed,
        "still_parked": still,
    }


def test_a_replay_shows_the_groups_that_had_something_and_fails_when_one_failed(capsys):
    quiet = _report("insights", 0, 0, 0)

    assert show_replayed([_report("meetings", 1, 0, 0), quiet], EVENT, as_json=False) == 0
    out = capsys.readouterr().out
    assert "insights" not in out
    assert "replayed 1 message(s) in 1 group(s); 0 failed again" in out

    assert show_replayed([_report("goals", 0, 1, 1), quiet], EVENT, as_json=False) == 1
    assert "1 failed again" in capsys.readouterr().out

    assert show_replayed([quiet], EVENT, as_json=False) == 1  # that event is parked nowhere
    assert f"no group of any service has event {EVENT} parked" in capsys.readouterr().err
    assert show_replayed([quiet], None, as_json=False) == 0  # nothing parked: nothing to do


def test_a_discard_names_each_group_who_and_why_and_what_still_waits_behind_it(capsys):
    discarded = [{"id": 3, "event_id": EVENT, "subject": "pairing-1"}]
    answers = [
        {
            "service": "meetings",
            "group": "meetings.pairing-events",
            "discarded": discarded,
            "still_parked_behind": 2,
            "by": "ops-ana",
            "reason": "bad data",
        },
        {
            "service": "insights",
            "group": "projection.x",
            "discarded": [],
            "still_parked_behind": 0,
            "by": "ops-ana",
            "reason": "bad data",
        },
    ]

    assert show_discarded(answers, EVENT, as_json=False) == 0

    out = capsys.readouterr().out
    assert "meetings       meetings.pairing-events: discarded 1" in out
    assert "projection.x" not in out
    assert "2 later message(s) of its subject still parked" in out
    assert "./kamu dlq replay --subject pairing-1" in out
    assert f"discarded event {EVENT} in 1 group(s) by ops-ana: bad data (recorded in" in out

    assert show_discarded(answers[1:], EVENT, as_json=False) == 1
    assert "no group of any service has event" in capsys.readouterr().err


def test_discard_needs_the_event(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("kamu_devstack.deadletters.stack_services", lambda _stack: [])
    assert main(["--state-dir", str(tmp_path), "dlq", "discard"]) == 2
    assert "needs --event-id" in capsys.readouterr().err
