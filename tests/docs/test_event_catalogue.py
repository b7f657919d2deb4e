"""The committed event catalogue is what the code generates: docs never drift from events."""

import subprocess
import sys
from pathlib import Path

import pytest

from kamu_devstack.services import PUBLISHERS, SERVICES
from kamu_insights.service import DEFINITION as INSIGHTS

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "events"


@pytest.mark.parametrize("service", PUBLISHERS)
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


def test_only_services_that_publish_have_a_catalogue():
    """Insights projects the others' events and publishes none: no topic, no catalogue
    (`./kamu docs` writes one per publisher), and the index says so."""
    assert not INSIGHTS.registry.events()
    assert [name for name, _ in SERVICES if name not in PUBLISHERS] == ["insights"]
    folders = sorted(p.name for p in CATALOGUE.iterdir() if p.is_dir())
    assert folders == sorted(PUBLISHERS)
    index = (CATALOGUE / "README.md").read_text()
    for name in PUBLISHERS:
        assert f"| {name} | `kamu.{name}.events` | [{name}/]({name}/README.md) |" in index
    assert "| insights | - (publishes no events) |" in index
