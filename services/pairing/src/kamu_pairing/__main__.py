"""``python -m kamu_pairing api|worker|migrate|dlq|rebuild|docs``."""

import sys

from kamu_pairing.service import DEFINITION
from kamu_pairing.settings import PairingSettings
from kamu_shared.cli import service_main


def main() -> None:
    """Entry point of the ``kamu-pairing`` command."""
    sys.exit(service_main(DEFINITION, PairingSettings()))


if __name__ == "__main__":
    main()
