"""``python -m kamu_insights api|worker|migrate|dlq|rebuild|docs``."""

import sys

from kamu_insights.service import DEFINITION
from kamu_insights.settings import InsightsSettings
from kamu_shared.cli import service_main


def main() -> None:
    """Entry point of the ``kamu-insights`` command."""
    sys.exit(service_main(DEFINITION, InsightsSettings()))


if __name__ == "__main__":
    main()
