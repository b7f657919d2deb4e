"""``python -m kamu_shared.auth mint --sub alice --roles employee`` prints a local token."""

from kamu_shared.auth.mint import main

raise SystemExit(main())
