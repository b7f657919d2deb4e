"""``python -m kamu_notifications api|worker|migrate|dlq|rebuild|docs``."""

import sys

from kamu_notifications.service import DEFINITION
from kamu_notifications.settings import NotificationsSettings
from kamu_shared.cli import service_main


def main() -> None:
    """Entry point of the ``kamu-notifications`` command."""
    sys.exit(service_main(DEFINITION, NotificationsSettings()))


if __name__ == "__main__":
    main()
