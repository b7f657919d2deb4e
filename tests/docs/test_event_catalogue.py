"""The committed event catalogue is what the code generates: docs never drift from events."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["pairing", "meetings", "goals", "notifications"]


@pytest.mark.parametrize("service", SERVICES)
def test_catalogue_is_current(service, tmp_path):
    subprocess.run(
        [sys.executable, "-m", f"kamu_{service}", "docs", str(tmp_path)],
        check=True,
        capture_output=True,
    )

    generated = {p.relative_to(tmp_path): p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    committed_dir = ROOT / "docs" / "events"
    committed = {
        p.relative_to(committed_dir): p.read_text()
        for p in (committed_dir / service).rglob("*")
        if p.is_file()
    }
    assert generated == committed, "run ./kamu docs and commit docs/events"
