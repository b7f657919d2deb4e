"""``python -m kamu_meetings api``: serve the meetings service."""

from kamu_meetings.app import create_app
from kamu_meetings.settings import MeetingsSettings
from kamu_shared.serve import serve_main


def main() -> None:
    """Entry point of the ``kamu-meetings`` command."""
    serve_main(MeetingsSettings(), create_app)


if __name__ == "__main__":
    main()
