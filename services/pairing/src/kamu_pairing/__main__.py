"""``python -m kamu_pairing api``: serve the pairing service."""

from kamu_pairing.app import create_app
from kamu_pairing.settings import PairingSettings
from kamu_shared.serve import serve_main


def main() -> None:
    """Entry point of the ``kamu-pairing`` command."""
    serve_main(PairingSettings(), create_app)


if __name__ == "__main__":
    main()
