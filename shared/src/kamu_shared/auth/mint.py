"""Local tokens for trying the API by hand: HS256 with ``KAMU_JWT_SECRET``.

Production tokens come from the identity provider (RS256, JWKS); this never signs those.
"""

import argparse
import sys
import time
from collections.abc import Iterable, Sequence

import jwt
from pydantic import ValidationError

from kamu_shared.auth.principal import KNOWN_ROLES
from kamu_shared.settings import ServiceSettings


def mint_token(
    *,
    secret: str,
    sub: str,
    roles: Iterable[str],
    ttl_seconds: int = 3600,
    issuer: str = "kamu",
    audience: str = "kamu",
    now: float | None = None,
) -> str:
    """A signed HS256 token for ``sub`` with ``roles``, valid for ``ttl_seconds``."""
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": sub,
        "roles": sorted(set(roles)),
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kamu_shared.auth")
    commands = parser.add_subparsers(dest="command", required=True)
    mint = commands.add_parser("mint", help="print a local HS256 token")
    mint.add_argument("--sub", required=True, help="the person id the token speaks for")
    mint.add_argument(
        "--roles", required=True, help=f"comma-separated, of: {', '.join(sorted(KNOWN_ROLES))}"
    )
    mint.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    mint.add_argument(
        "--secret", help="HS256 secret (default: KAMU_JWT_SECRET; prefer the variable)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m kamu_shared.auth``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        settings = ServiceSettings()
    except ValidationError as exc:
        print(f"error: invalid KAMU_* settings: {exc}", file=sys.stderr)
        return 2
    secret = args.secret or (
        settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    )
    if not secret:
        print(
            "error: no signing secret. Set KAMU_JWT_SECRET (the same value the services use) "
            "or pass --secret.",
            file=sys.stderr,
        )
        return 2
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    unknown = sorted(set(roles) - KNOWN_ROLES)
    if not roles or unknown:
        print(
            f"error: --roles takes one or more of {', '.join(sorted(KNOWN_ROLES))}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            file=sys.stderr,
        )
        return 2
    if args.ttl <= 0:
        print("error: --ttl must be a positive number of seconds", file=sys.stderr)
        return 2
    print(
        mint_token(
            secret=secret,
            sub=args.sub,
            roles=roles,
            ttl_seconds=args.ttl,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    )
    return 0
