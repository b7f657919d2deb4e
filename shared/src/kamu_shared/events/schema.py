"""Published contracts: JSON schemas of events and an AsyncAPI 3.0 document per service.

These are generated from the registered classes (never written by hand), so the catalogue
cannot drift from the code. Two choices worth knowing:

- Event schemas omit the top-level ``additionalProperties: false`` that ``extra="forbid"``
  produces: a shipped version may gain optional fields, so readers must ignore unknown ones.
- In the AsyncAPI document, nested models' ``$defs`` move to ``components.schemas`` under
  ``<name>-v<N>.<Model>``, because ``$ref``s resolve against the whole document there.
"""

import inspect
import json
from pathlib import Path
from typing import Any, Literal

import yaml

from kamu_shared.events.base import DomainEvent, personal_fields
from kamu_shared.events.envelope import CONTENT_TYPE, REQUIRED_HEADERS, SPEC_VERSION
from kamu_shared.events.registry import EventRegistry
from kamu_shared.events.serialization import JsonObject

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
_CHANNEL = "events"


def json_schema(cls: type[DomainEvent], registry: EventRegistry) -> JsonObject:
    """Pydantic's JSON schema of a registered event, with ``$id`` = its dataschema URI,
    ``title`` = its CloudEvents type, and ``x-personal: true`` on personal fields (plus
    ``x-personal-subject`` naming the field that holds the person's id, when not the aggregate)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **_event_schema(cls, registry, "#/$defs/{model}"),
    }


def asyncapi_document(
    registry: EventRegistry,
    *,
    title: str,
    version: str,
    description: str = "",
    action: Literal["send", "receive"] = "send",
) -> JsonObject:
    """An AsyncAPI 3.0.0 document of the registry's topic: one channel, one message per event
    version and one operation (``send`` for the producing service, ``receive`` for a consumer)."""
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for cls in registry.events():
        key = _message_key(cls)
        payload = _event_schema(cls, registry, f"#/components/schemas/{key}.{{model}}")
        for model, definition in payload.pop("$defs", {}).items():
            schemas[f"{key}.{model}"] = definition
        messages[key] = _message(cls, registry, payload)
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    verb = "publishes" if action == "send" else "reads"
    components: dict[str, Any] = {"messages": messages}
    if schemas:
        components["schemas"] = schemas
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": info,
        "defaultContentType": CONTENT_TYPE,
        "channels": {
            _CHANNEL: {
                "address": registry.topic,
                "title": f"{registry.service} events",
                "description": (
                    f"Events of the {registry.service} service as CloudEvents {SPEC_VERSION} in "
                    "Kafka binary content mode: attributes in ce_* headers, data as the JSON "
                    "value, and the aggregate id as the record key (equal to ce_subject)."
                ),
                "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in messages},
                "bindings": {
                    "kafka": {"topic": registry.topic, "bindingVersion": KAFKA_BINDING_VERSION}
                },
            }
        },
        "operations": {
            f"{action}-{registry.service}-events": {
                "action": action,
                "channel": {"$ref": f"#/channels/{_CHANNEL}"},
                "summary": f"This service {verb} the {registry.service} events.",
                "messages": [{"$ref": f"#/channels/{_CHANNEL}/messages/{key}"} for key in messages],
            }
        },
        "components": components,
    }


def write_event_docs(
    registry: EventRegistry, out_dir: Path, *, title: str, version: str, description: str = ""
) -> list[Path]:
    """Write ``<out_dir>/<service>/``: ``asyncapi.yaml``, ``schemas/<name>.v<N>.json`` and a
    ``README.md`` catalogue table. Returns the written paths."""
    root = out_dir / registry.service
    (root / "schemas").mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        written.append(path)

    document = asyncapi_document(registry, title=title, version=version, description=description)
    write(
        root / "asyncapi.yaml",
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100),
    )
    for cls in registry.events():
        text = json.dumps(json_schema(cls, registry), indent=2, ensure_ascii=False)
        write(root / "schemas" / f"{cls.event_name}.v{cls.event_version}.json", text + "\n")
    write(root / "README.md", catalogue_markdown(registry))
    return written


def catalogue_markdown(registry: EventRegistry) -> str:
    """The markdown catalogue of a registry's events: type, version, description, personal data."""
    lines = [
        f"# Events of the {registry.service} service",
        "",
        "Generated by `python -m kamu_shared.events.docs`; do not edit by hand.",
        "",
        f"Topic `{registry.topic}`, source `{registry.source}`; "
        "contract in [asyncapi.yaml](asyncapi.yaml).",
        "",
        "| event type | version | description | personal fields | schema |",
        "|---|---|---|---|---|",
    ]
    for cls in registry.events():
        personal = ", ".join(
            f"`{key}`" if subject is None else f"`{key}` (of `{subject}`)"
            for key, subject in personal_fields(cls).items()
        )
        schema_file = f"schemas/{cls.event_name}.v{cls.event_version}.json"
        cells = [
            f"`{registry.ce_type(cls)}`",
            str(cls.event_version),
            _summary(cls).replace("|", "\\|"),
            personal or "-",
            f"[json]({schema_file})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _event_schema(cls: type[DomainEvent], registry: EventRegistry, ref_template: str) -> JsonObject:
    schema = cls.model_json_schema(ref_template=ref_template)
    if schema.get("additionalProperties") is False:
        del schema["additionalProperties"]
    properties = schema.get("properties", {})
    for key, subject in personal_fields(cls).items():
        properties[key]["x-personal"] = True
        if subject is not None:
            properties[key]["x-personal-subject"] = subject
    schema["title"] = registry.ce_type(cls)
    return {"$id": registry.dataschema(cls), **schema}


def _message(cls: type[DomainEvent], registry: EventRegistry, payload: JsonObject) -> JsonObject:
    ce_type = registry.ce_type(cls)
    message: dict[str, Any] = {
        "name": ce_type,
        "title": f"{cls.event_name} v{cls.event_version}",
    }
    summary = _summary(cls)
    if summary:
        message["summary"] = summary
    doc = _docstring(cls)
    if doc and doc != summary:
        message["description"] = doc
    message.update(
        {
            "contentType": CONTENT_TYPE,
            "correlationId": {"location": "$message.header#/ce_correlationid"},
            "headers": _headers_schema(ce_type, registry.source, registry.dataschema(cls)),
            "payload": payload,
            "bindings": {
                "kafka": {
                    "key": {
                        "type": "string",
                        "description": "The aggregate id; equal to the ce_subject header.",
                    },
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
    )
    return message


def _headers_schema(ce_type: str, source: str, dataschema: str) -> JsonObject:
    def text(description: str, **extra: Any) -> dict[str, Any]:
        return {"type": "string", "description": description, **extra}

    return {
        "type": "object",
        "properties": {
            "ce_specversion": text("CloudEvents spec version.", const=SPEC_VERSION),
            "ce_id": text("Event id; (ce_source, ce_id) is the de-duplication key.", format="uuid"),
            "ce_source": text("Producing service.", const=source),
            "ce_type": text("Event type and version.", const=ce_type),
            "ce_subject": text("Aggregate id; also the record key."),
            "ce_time": text("When the event happened (RFC 3339, UTC).", format="date-time"),
            "ce_sequence": text("Aggregate version after the event (decimal).", pattern="^[0-9]+$"),
            "ce_dataschema": text("URI of the data's JSON schema.", const=dataschema),
            "ce_correlationid": text("Id of the request or flow the event belongs to."),
            "ce_causationid": text("Id of the command or event that caused this event."),
            "ce_actor": text("Who caused the event (a user or service id)."),
            "traceparent": text("W3C Trace Context of the producing span."),
            "content-type": text("Media type of the value.", const=CONTENT_TYPE),
        },
        "required": list(REQUIRED_HEADERS),
    }


def _message_key(cls: type[DomainEvent]) -> str:
    return f"{cls.event_name}-v{cls.event_version}"


def _docstring(cls: type[DomainEvent]) -> str:
    """The class's own docstring (not an inherited one), cleaned of indentation."""
    own = cls.__dict__.get("__doc__")
    return inspect.cleandoc(own) if isinstance(own, str) else ""


def _summary(cls: type[DomainEvent]) -> str:
    """The first paragraph of the class's own docstring, on one line."""
    return " ".join(_docstring(cls).split("\n\n")[0].split())
