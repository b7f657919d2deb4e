"""``python -m kamu_notifications api``: serve the notifications service."""

from kamu_notifications.app import create_app
from kamu_notifications.settings import NotificationsSettings
from kamu_shared.serve import serve_main


def main() -> None:
    """Entry point of the ``kamu-notifications`` command."""
    serve_main(NotificationsSettings(), create_app)


if __name__ == "__main__":
    main()
