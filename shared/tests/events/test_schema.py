"""Published contracts: JSON schemas, the AsyncAPI document and the generated catalogue."""

import json
import textwrap
from typing import Annotated, Any

import pydantic
import pytest
import yaml

from kamu_shared.events import DomainEvent, EventRegistry, PersonalData
from kamu_shared.events.docs import main
from kamu_shared.events.schema import asyncapi_document, json_schema, write_event_docs

registry = EventRegistry("example")


class Dimensions(pydantic.BaseModel):
    width: int
    height: int


@registry.register
class ThingCreatedV1(DomainEvent, name="thing-created", version=1):
    """A thing was created (first shape)."""

    thing_id: str
    title: str


@registry.register
class ThingCreated(DomainEvent, name="thing-created", version=2):
    """A thing was created.

    The owner may describe it in a note.
    """

    thing_id: str
    owner_id: str
    label: Annotated[str, PersonalData()]
    note: Annotated[str, PersonalData(subject="owner_id")] | None = None
    dimensions: Dimensions | None = None


@registry.register
class ThingRemoved(DomainEvent, name="thing-removed", version=1):
    """A thing was removed | for good."""

    thing_id: str


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def refs_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [ref for value in node.values() for ref in refs_in(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs_in(value)]
    return []


def test_json_schema_has_the_dataschema_id_the_type_as_title_and_personal_marks():
    schema = json_schema(ThingCreated, registry)

    assert schema["$id"] == "urn:kamu:schema:example:thing-created:v2"
    assert schema["title"] == "kamu.example.thing-created.v2"
    assert schema["properties"]["label"]["x-personal"] is True
    assert schema["properties"]["note"]["x-personal"] is True
    assert schema["properties"]["note"]["x-personal-subject"] == "owner_id"
    assert "x-personal" not in schema["properties"]["thing_id"]
    assert schema["required"] == ["thing_id", "owner_id", "label"]
    # readers must ignore fields a later release adds to this version
    assert "additionalProperties" not in schema
    assert all(ref.startswith("#/$defs/") for ref in refs_in(schema))


def test_the_asyncapi_document_describes_the_topic_and_every_event_version():
    doc = asyncapi_document(registry, title="Example events", version="1.2.0", description="Demo")

    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"] == {"title": "Example events", "version": "1.2.0", "description": "Demo"}
    [channel] = doc["channels"].values()
    assert channel["address"] == "kamu.example.events"
    messages = doc["components"]["messages"]
    assert [m["name"] for m in messages.values()] == [
        "kamu.example.thing-created.v1",
        "kamu.example.thing-created.v2",
        "kamu.example.thing-removed.v1",
    ]
    [operation] = doc["operations"].values()
    assert operation["action"] == "send"
    assert len(operation["messages"]) == len(channel["messages"]) == 3


def test_each_message_carries_payload_headers_and_the_key():
    doc = asyncapi_document(registry, title="Example events", version="1.2.0")

    message = doc["components"]["messages"]["thing-created-v2"]

    assert message["contentType"] == "application/json"
    assert message["summary"] == "A thing was created."
    assert message["payload"]["$id"] == "urn:kamu:schema:example:thing-created:v2"
    assert message["payload"]["properties"]["label"]["x-personal"] is True
    headers = message["headers"]
    assert headers["type"] == "object"
    assert headers["properties"]["ce_type"]["const"] == "kamu.example.thing-created.v2"
    assert headers["properties"]["ce_source"]["const"] == "/kamu/example"
    assert {"ce_id", "ce_type", "ce_subject", "ce_time", "ce_sequence"} <= set(headers["required"])
    assert "aggregate id" in message["bindings"]["kafka"]["key"]["description"]


def test_the_asyncapi_document_is_structurally_sound():
    doc = asyncapi_document(registry, title="Example events", version="1.2.0")

    assert set(doc) == {
        "asyncapi",
        "info",
        "defaultContentType",
        "channels",
        "operations",
        "components",
    }
    for key in [*doc["channels"], *doc["operations"], *doc["components"]["messages"]]:
        assert key.replace("-", "").replace("_", "").isalnum(), key
    for ref in refs_in(doc):  # every reference resolves inside the document
        resolve(doc, ref)
    for operation in doc["operations"].values():
        assert operation["action"] in {"send", "receive"}
        channel = resolve(doc, operation["channel"]["$ref"])
        for message_ref in operation["messages"]:
            assert message_ref["$ref"].startswith(operation["channel"]["$ref"] + "/messages/")
            assert resolve(doc, message_ref["$ref"]) in channel["messages"].values()
    # a nested model's schema moved to components, named after its event version
    assert "thing-created-v2.Dimensions" in doc["components"]["schemas"]
    assert "$defs" not in json.dumps(doc)


def test_a_consumer_describes_its_reading_as_receive():
    doc = asyncapi_document(registry, title="Read", version="1", action="receive")

    assert [op["action"] for op in doc["operations"].values()] == ["receive"]


def test_write_event_docs_writes_the_catalogue(tmp_path):
    written = write_event_docs(registry, tmp_path, title="Example events", version="1.2.0")

    root = tmp_path / "example"
    assert sorted(p.relative_to(root).as_posix() for p in written) == [
        "README.md",
        "asyncapi.yaml",
        "schemas/thing-created.v1.json",
        "schemas/thing-created.v2.json",
        "schemas/thing-removed.v1.json",
    ]
    asyncapi = yaml.safe_load((root / "asyncapi.yaml").read_text())
    assert asyncapi == asyncapi_document(registry, title="Example events", version="1.2.0")
    schema = json.loads((root / "schemas/thing-created.v2.json").read_text())
    assert schema == json_schema(ThingCreated, registry)
    readme = (root / "README.md").read_text()
    assert (
        "| `kamu.example.thing-created.v2` | 2 | A thing was created. "
        "| `label`, `note` (of `owner_id`) | [json](schemas/thing-created.v2.json) |"
    ) in readme
    assert "| A thing was removed \\| for good. | - |" in readme


def test_the_docs_command_imports_the_registry_and_writes_the_catalogue(
    tmp_path, monkeypatch, capsys
):
    # given an importable module holding a registry
    (tmp_path / "gadget_events.py").write_text(
        textwrap.dedent(
            """
            from kamu_shared.events import DomainEvent, EventRegistry

            registry = EventRegistry("gadget")

            @registry.register
            class GadgetMade(DomainEvent, name="gadget-made", version=1):
                '''A gadget was made.'''

                gadget_id: str
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    # when the command runs
    code = main(["gadget_events:registry", str(tmp_path / "docs"), "--api-version", "2.0.0"])

    # then the catalogue is written and listed
    assert code == 0
    doc = yaml.safe_load((tmp_path / "docs/gadget/asyncapi.yaml").read_text())
    assert doc["info"] == {"title": "Kamu gadget events", "version": "2.0.0"}
    assert (tmp_path / "docs/gadget/schemas/gadget-made.v1.json").is_file()
    assert "gadget/README.md" in capsys.readouterr().out


@pytest.mark.parametrize("spec", ["no_colon", "no_such_module_xyz:registry", "json:dumps"])
def test_the_docs_command_explains_a_bad_registry_spec(spec, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([spec, str(tmp_path)])

    assert exit_info.value.code == 2
    assert spec.partition(":")[0] in capsys.readouterr().err
