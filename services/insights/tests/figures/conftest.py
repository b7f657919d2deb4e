"""Figure tests: a small history with chosen times, read as of a fixed "now"."""

from datetime import UTC, date, datetime

import pytest

from kamu_insights.api import answer
from kamu_insights.figures.catalogue import FIGURES
from kamu_insights.figures.periods import months_between

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


@pytest.fixture
def figure(service):
    """``await figure("coverage", team=None, by=None)`` for January to March 2026, as of NOW."""
    months = months_between(date(2026, 1, 1), date(2026, 3, 1), NOW)

    async def read(name, team=None, by=None):
        return await answer(service.runtime, FIGURES[name], team, by, months, NOW)

    return read


@pytest.fixture
def small_groups(service):
    """Groups of 2 are shown (1 is withheld): hand-made histories stay small."""
    service.settings.min_group = 2
    return 2
