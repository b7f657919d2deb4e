"""``python -m kamu_shared.auth mint`` prints a token the services accept."""

import os
import subprocess
import sys

from kamu_shared.auth.verifier import TokenVerifier


def mint(*args: str, secret: str | None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAMU_JWT_")}
    if secret is not None:
        env["KAMU_JWT_SECRET"] = secret
    return subprocess.run(
        [sys.executable, "-m", "kamu_shared.auth", "mint", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_minted_token_verifies(secret):
    done = mint("--sub", "alice", "--roles", "employee,people-ops", "--ttl", "120", secret=secret)
    assert done.returncode == 0, done.stderr
    principal = await TokenVerifier(secret=secret).verify(done.stdout.strip())
    assert principal.sub == "alice"
    assert principal.roles == {"employee", "people-ops"}


def test_refuses_without_a_secret():
    done = mint("--sub", "alice", "--roles", "employee", secret=None)
    assert done.returncode == 2
    assert "KAMU_JWT_SECRET" in done.stderr
    assert not done.stdout


def test_refuses_unknown_roles(secret):
    done = mint("--sub", "alice", "--roles", "employee,root", secret=secret)
    assert done.returncode == 2
    assert "root" in done.stderr
