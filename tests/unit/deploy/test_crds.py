"""The CRD-to-JSON-Schema conversion (puhui/kube/crds.py) says what the API server enforces."""

from __future__ import annotations

import re

import jsonschema

from puhui.kube.crds import schema_file_name, version_schemas
from puhui.kube.manifests import REPO

CRD = {"kind": "CustomResourceDefinition", "spec": {
    "group": "example.com", "names": {"kind": "Gadget"},
    "versions": [
        {"name": "v1", "served": True, "schema": {"openAPIV3Schema": {
            "type": "object", "description": "dropped",
            "properties": {
                "spec": {"type": "object", "required": ["size"], "properties": {
                    "size": {"x-kubernetes-int-or-string": True},
                    "note": {"type": "string", "nullable": True},
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                              "properties": {"known": {"type": "integer"}}}}},
                "metadata": {"type": "object"}}}}},
        {"name": "v0", "served": False, "schema": {"openAPIV3Schema": {"type": "object"}}}]}}


def _validator() -> jsonschema.Draft7Validator:
    ((stem, schema),) = list(version_schemas(CRD))
    assert f"{stem}.json" == schema_file_name("example.com/v1", "Gadget")
    assert "description" not in schema
    return jsonschema.Draft7Validator(schema)


def _ok(spec: object, **top: object) -> bool:
    document = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"},
                "spec": spec, **top}
    return _validator().is_valid(document)


def test_int_or_string_and_nullable_are_admitted() -> None:
    assert _ok({"size": 3})
    assert _ok({"size": "3Gi"})
    assert _ok({"size": 1, "note": None})
    assert not _ok({"size": 1.5})


def test_an_unknown_field_is_refused_unless_the_schema_keeps_unknown_fields() -> None:
    assert not _ok({"size": 1, "colour": "red"})
    assert _ok({"size": 1, "extra": {"anything": True}})
    assert not _ok({"size": 1}, status={})  # the root is closed too


def test_kind_and_api_version_must_be_the_crds() -> None:
    assert not _validator().is_valid({"apiVersion": "example.com/v2", "kind": "Gadget",
                                      "metadata": {}, "spec": {"size": 1}})
    assert not _ok({})  # required size


def test_the_strimzi_schemas_are_of_an_operator_that_runs_kafka_4_1() -> None:
    """Kafka 4.1 (the broker `puhui stack` runs) needs Strimzi 0.48 or later: the vendored
    schemas are of the version scripts/vendor-crds fetches, and the README says which."""
    script = (REPO / "scripts" / "vendor-crds").read_text()
    (strimzi,) = re.findall(r"^STRIMZI=(\d+\.\d+\.\d+)", script, flags=re.MULTILINE)
    assert tuple(map(int, strimzi.split("."))) >= (0, 48, 0)
    readme = (REPO / "deploy" / "k8s" / "crds" / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `kafka.strimzi.io_")]
    assert len(rows) == 3
    assert all(f"| {strimzi} |" in row for row in rows)
