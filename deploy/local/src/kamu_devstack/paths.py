"""Where the checkout, its caches and the state of running stacks live."""

import hashlib
import os
import tempfile
from pathlib import Path


def project_root() -> Path:
    """The checkout this package is installed from (an editable workspace member)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "deploy" / "local" / "kafka" / "pom.xml").exists():
            return parent
    raise RuntimeError(f"{here} is not inside a Kamu checkout")


def kafka_pom() -> Path:
    return project_root() / "deploy" / "local" / "kafka" / "pom.xml"


def cache_dir() -> Path:
    """Downloads kept between runs (Kafka's jars); ``KAMU_CACHE_DIR`` overrides."""
    return Path(os.environ.get("KAMU_CACHE_DIR") or project_root() / ".cache")


def default_state_dir() -> Path:
    """Where ``./kamu up`` keeps its servers' data, logs and pids; ``KAMU_STATE_DIR`` overrides.

    Outside the checkout on purpose: PostgreSQL runs as another user when we are root, and that
    user must be able to reach its data folder, which a home folder such as /root forbids.
    """
    if env := os.environ.get("KAMU_STATE_DIR"):
        return Path(env)
    digest = hashlib.sha256(str(project_root()).encode()).hexdigest()[:8]
    return Path(tempfile.gettempdir()) / f"kamu-{os.getuid()}-{digest}"
