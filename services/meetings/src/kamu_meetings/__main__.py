"""``python -m kamu_meetings api|worker|migrate|dlq|rebuild|docs``."""

import sys

from kamu_meetings.service import DEFINITION
from kamu_meetings.settings import MeetingsSettings
from kamu_shared.cli import service_main


def main() -> None:
    """Entry point of the ``kamu-meetings`` command."""
    sys.exit(service_main(DEFINITION, MeetingsSettings()))


if __name__ == "__main__":
    main()
