"""``python -m kamu_goals api``: serve the goals service."""

from kamu_goals.app import create_app
from kamu_goals.settings import GoalsSettings
from kamu_shared.serve import serve_main


def main() -> None:
    """Entry point of the ``kamu-goals`` command."""
    serve_main(GoalsSettings(), create_app)


if __name__ == "__main__":
    main()
