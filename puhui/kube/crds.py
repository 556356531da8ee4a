"""A CustomResourceDefinition's `openAPIV3Schema` as a JSON Schema, for the `jsonschema` package.

What the API server does that JSON Schema does not say by itself is made explicit: a field
the structural schema does not name is an error (the server would prune it silently: that is
how a typo in a manifest gets lost), `nullable` admits null, `x-kubernetes-int-or-string`
admits both. Descriptions are dropped (they are most of the size). Run as
`python -m puhui.kube.crds OUT_DIR CRD.yaml...` by scripts/vendor-crds.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

Schema = dict[str, Any]
_CHILD = ("items", "additionalProperties", "not")
_CHILDREN = ("allOf", "anyOf", "oneOf")
_MAPS = ("properties", "patternProperties")
_DROPPED = ("description", "nullable")


def convert(node: Mapping[str, Any]) -> Schema:
    """One openAPIV3Schema node (and everything under it) as JSON Schema."""
    out: Schema = {}
    for key, value in node.items():
        if key in _DROPPED or key.startswith("x-kubernetes-"):
            continue
        if key in _MAPS:
            out[key] = {name: convert(child) for name, child in value.items()}
        elif key in _CHILD and isinstance(value, Mapping):
            out[key] = convert(value)
        elif key in _CHILDREN:
            out[key] = [convert(child) for child in value]
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in out:
        out["type"] = ["integer", "string"]
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    closed = not node.get("x-kubernetes-preserve-unknown-fields")
    if out.get("type") == "object" and "properties" in out and closed:
        out.setdefault("additionalProperties", False)
    return out


def version_schemas(crd: Mapping[str, Any]) -> Iterator[tuple[str, Schema]]:
    """(file stem, JSON Schema) for each served version of the CRD."""
    group = crd["spec"]["group"]
    kind = crd["spec"]["names"]["kind"]
    for version in crd["spec"]["versions"]:
        if not version.get("served", True):
            continue
        schema = convert(version["schema"]["openAPIV3Schema"])
        schema.setdefault("properties", {})
        schema["properties"]["apiVersion"] = {"const": f"{group}/{version['name']}"}
        schema["properties"]["kind"] = {"const": kind}
        schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind",
                                     "metadata"})
        stem = f"{group}_{version['name']}_{kind.lower()}"
        yield stem, {"$schema": "http://json-schema.org/draft-07/schema#",
                     "title": f"{kind} {group}/{version['name']}", **schema}


def schema_file_name(api_version: str, kind: str) -> str:
    """Where deploy/k8s/crds keeps the schema of `kind` in `group/version`."""
    group, version = api_version.split("/")
    return f"{group}_{version}_{kind.lower()}.json"


def main(out_dir: Path, crd_files: list[Path]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in crd_files:
        for document in yaml.safe_load_all(path.read_text()):
            if not document or document.get("kind") != "CustomResourceDefinition":
                continue
            for stem, schema in version_schemas(document):
                target = out_dir / f"{stem}.json"
                target.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
                print(target)


if __name__ == "__main__":
    main(Path(sys.argv[1]), [Path(arg) for arg in sys.argv[2:]])
