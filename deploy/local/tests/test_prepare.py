"""`./kamu test` prepares what the tests download or compile before pytest starts: each step
with progress lines and a time limit of its own (kamu_devstack.watched), the deploy tests' Go
tools only when the run may include them."""

import os
import time
from pathlib import Path

import pytest

from kamu_devstack.cli import local_kafka_wanted, wants_deploy_tests
from kamu_devstack.errors import InfraError
from kamu_devstack.gotools import PACKAGES, find_tools, sources_hash
from kamu_devstack.paths import project_root
from kamu_devstack.processes import pid_alive
from kamu_devstack.watched import minutes, run_watched

ROOT = project_root()


def test_a_long_command_reports_progress_as_it_goes():
    lines: list[str] = []

    out = run_watched(
        ["sh", "-c", "sleep 1.5; echo done"],
        what="waiting",
        say=lines.append,
        deadline=time.monotonic() + 30,
        status=lambda: "half way",
        every=0.5,
    )

    assert out.strip() == "done"
    assert len(lines) >= 2
    assert all(line.startswith("waiting: half way, ") for line in lines)


def test_a_command_past_its_limit_is_stopped_with_its_output(tmp_path: Path):
    pid_file = tmp_path / "pid"
    started = time.monotonic()

    with pytest.raises(InfraError, match=r"(?s)slow: stopped at its time limit.*begun"):
        run_watched(
            ["sh", "-c", f"echo $$ > {pid_file}; echo begun; sleep 60"],
            what="slow",
            say=lambda _line: None,
            deadline=time.monotonic() + 1,
        )

    assert time.monotonic() - started < 20
    assert not pid_alive(int(pid_file.read_text()))  # nothing left running


def test_a_failing_command_says_what_to_check():
    with pytest.raises(InfraError, match=r"(?s)fetching failed \(exit 3\) \(is it reachable\?\)"):
        run_watched(
            ["sh", "-c", "echo no route; exit 3"],
            what="fetching",
            say=lambda _line: None,
            deadline=time.monotonic() + 30,
            hint="is it reachable?",
        )


def test_elapsed_time_reads_as_minutes_and_seconds():
    assert [minutes(s) for s in (0.4, 45, 60, 125.9)] == ["0 s", "45 s", "1 min 00 s", "2 min 05 s"]


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        ([], True),
        (["-k", "dashboard"], True),  # -k may still select them
        (["tests"], True),
        (["tests/deploy/test_k8s.py::test_x"], True),
        (["."], True),
        (["shared/tests"], False),
        (["services/meetings/tests", "-x"], False),
    ],
)
def test_the_go_tools_are_prepared_only_when_the_run_may_include_the_deploy_tests(args, wanted):
    assert wants_deploy_tests(args, ROOT) is wanted


def test_kafkas_jars_are_prepared_only_for_a_local_broker(monkeypatch):
    monkeypatch.setenv("KAMU_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    assert not local_kafka_wanted()
    monkeypatch.delenv("KAMU_KAFKA_BOOTSTRAP")
    monkeypatch.setenv("KAMU_INFRA", "local")
    assert local_kafka_wanted()
    monkeypatch.setenv("KAMU_INFRA", "docker")
    assert not local_kafka_wanted()


def test_the_tools_are_found_by_a_hash_of_their_sources(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("KAMU_CACHE_DIR", str(tmp_path))
    assert find_tools() is None  # nothing built in an empty cache
    bin_dir = tmp_path / "tools" / "bin"
    bin_dir.mkdir(parents=True)
    for name in PACKAGES:
        tool = bin_dir / f"{name}-{sources_hash()}"
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)

    found = find_tools()

    assert found is not None
    assert found.kustomize == bin_dir / f"kustomize-{sources_hash()}"
    assert os.access(found.promtool, os.X_OK)
