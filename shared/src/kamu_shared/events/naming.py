"""The wire spellings derived from a service name and an event's name and version.

Every string that identifies a Kamu event on the wire is built and parsed here, so the formats
cannot drift apart between the producer, the relay, consumers and the generated docs:

- CloudEvents type: ``kamu.<service>.<event-name>.v<N>``
- CloudEvents source: ``/kamu/<service>``
- dataschema (JSON schema ``$id``): ``urn:kamu:schema:<service>:<event-name>:v<N>``
- default topic: ``kamu.<service>.events``

Service and event names are lower-case kebab-case (``goal-set``), so they never contain the
separators of these formats.
"""

import re

from kamu_shared.events.errors import EventTypeError

_NAME = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
_NAME_RE = re.compile(_NAME)
_CE_TYPE_RE = re.compile(rf"kamu\.({_NAME})\.({_NAME})\.v([1-9][0-9]*)")


def check_name(kind: str, value: str) -> str:
    """Return ``value`` if it is a valid service or event name, else raise ValueError."""
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise ValueError(
            f"{kind} {value!r} is not a valid name: use lower-case kebab-case such as "
            "'thing-created' (letters, digits and single dashes, starting with a letter)"
        )
    return value


def check_version(version: int) -> int:
    """Return ``version`` if it is a positive int (bools excluded), else raise ValueError."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"event version {version!r} is not valid: use an int >= 1")
    return version


def ce_type_for(service: str, name: str, version: int) -> str:
    """The CloudEvents type of an event: ``kamu.<service>.<event-name>.v<N>``."""
    return f"kamu.{service}.{name}.v{version}"


def parse_ce_type(ce_type: str) -> tuple[str, str, int]:
    """Split a CloudEvents type into ``(service, event name, version)``.

    Raises EventTypeError if it is not of the form ``kamu.<service>.<event-name>.v<N>``.
    """
    match = _CE_TYPE_RE.fullmatch(ce_type)
    if match is None:
        raise EventTypeError(
            f"malformed event type {ce_type!r}: expected 'kamu.<service>.<event-name>.v<N>' "
            "in lower-case kebab-case, for example 'kamu.example.thing-created.v1'"
        )
    return match.group(1), match.group(2), int(match.group(3))


def source_for(service: str) -> str:
    """The CloudEvents source of every event a service produces: ``/kamu/<service>``."""
    return f"/kamu/{service}"


def topic_for(service: str) -> str:
    """The default Kafka topic a service publishes its events to: ``kamu.<service>.events``."""
    return f"kamu.{service}.events"


def dataschema_for(service: str, name: str, version: int) -> str:
    """The stable URI of an event version's JSON schema (its ``$id`` and ``ce_dataschema``)."""
    return f"urn:kamu:schema:{service}:{name}:v{version}"
