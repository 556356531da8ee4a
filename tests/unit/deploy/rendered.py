"""deploy/k8s rendered as the cluster would get it (`kustomize build`), and checked against
the Kubernetes schemas (kubernetes-validate) and the operators' (deploy/k8s/crds), offline."""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from puhui.kube.crds import schema_file_name
from puhui.kube.manifests import REPO

K8S = REPO / "deploy" / "k8s"
CRDS = K8S / "crds"
OVERLAYS = ("dev", "production")
KUSTOMIZE = REPO / ".venv" / "bin" / "kustomize"  # scripts/setup builds it
# the oldest Kubernetes minor still maintained upstream, and the newest the package ships
KUBERNETES_VERSIONS = ("1.33.0", kubernetes_validate.latest_version())
Manifest = dict[str, Any]


@functools.cache
def render(path: Path) -> tuple[Manifest, ...]:
    assert KUSTOMIZE.exists(), "kustomize is missing: run scripts/setup"
    done = subprocess.run([str(KUSTOMIZE), "build", str(path)], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    return tuple(d for d in yaml.safe_load_all(done.stdout) if d)


def overlay(name: str) -> tuple[Manifest, ...]:
    return render(K8S / "overlays" / name)


def find(documents: tuple[Manifest, ...], kind: str, name: str | None = None) -> list[Manifest]:
    return [d for d in documents
            if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


@functools.cache
def _crd_validator(file_name: str) -> jsonschema.Draft7Validator | None:
    path = CRDS / file_name
    if not path.exists():
        return None
    return jsonschema.Draft7Validator(json.loads(path.read_text()))


def _is_custom(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def problems(document: Manifest, kubernetes_version: str) -> list[str]:
    """What the API server (or the operator's CRD) would refuse in `document`."""
    what = f"{document.get('kind')} {document.get('metadata', {}).get('name')}"
    api_version = str(document.get("apiVersion", ""))
    if _is_custom(api_version):
        validator = _crd_validator(schema_file_name(api_version, str(document["kind"])))
        if validator is None:
            return [f"{what}: no CRD schema for {api_version} in deploy/k8s/crds"]
        return [f"{what}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(document)]
    try:
        kubernetes_validate.validate(document, kubernetes_version, strict=True)
    except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError,
            kubernetes_validate.InvalidSchemaError) as error:
        return [f"{what}: {getattr(error, 'message', error)}"]
    return []
