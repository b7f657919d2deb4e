"""``python -m kamu_goals api|worker|migrate|dlq|rebuild|docs``."""

import sys

from kamu_goals.service import DEFINITION
from kamu_goals.settings import GoalsSettings
from kamu_shared.cli import service_main


def main() -> None:
    """Entry point of the ``kamu-goals`` command."""
    sys.exit(service_main(DEFINITION, GoalsSettings()))


if __name__ == "__main__":
    main()
