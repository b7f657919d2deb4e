"""The exceptions of the events package, in one place so callers can catch them by meaning."""


class EnvelopeError(ValueError):
    """A Kafka record is not a Kamu CloudEvent: a header is missing or malformed, or the value is
    not a JSON object. Retrying cannot fix it, so consumers dead-letter such records."""


class EventDecodeError(ValueError):
    """An event of a type this registry knows has data that does not fit the model (or an
    upcaster failed on it). Like EnvelopeError, it is about the record, not about this process."""


class EventTypeError(EventDecodeError):
    """A CloudEvents type is not of the form ``kamu.<service>.<event-name>.v<N>``."""


class RegistryError(ValueError):
    """The registry was used wrongly: a duplicate registration, an unregistered class or a missing
    upcaster. It is a programming or deployment error, never caused by a record's content."""
