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
def arithmetic_only(service):
    """Every group shown, whatever its size: these tests check the arithmetic on histories
    small enough to compute by hand; withholding is tested on its own (tests/privacy)."""
    service.settings.min_group = 1  # below the settings' floor of 2, on purpose
    return 1
