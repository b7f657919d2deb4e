"""``python -m benchmarks`` runs the core benchmark."""

from benchmarks.core import main

if __name__ == "__main__":
    raise SystemExit(main())
