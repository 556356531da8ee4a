"""The committed JSON Schema files are exactly what the models generate."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.generate import generate, render, schema_file
from schemas.registry import MESSAGE_TYPES


@pytest.mark.parametrize("topic", list(MESSAGE_TYPES))
def test_committed_schema_matches_the_models(topic: str) -> None:
    committed = schema_file(topic)
    assert committed.exists(), f"{committed} is missing: run `python -m schemas.generate`"
    assert committed.read_text(encoding="utf-8") == render(topic), (
        f"{committed.name} differs from the models: run `python -m schemas.generate` and commit"
    )


def test_generate_writes_one_file_per_topic(tmp_path: Path) -> None:
    written = generate(tmp_path)
    assert sorted(path.name for path in written) == sorted(
        f"{topic}.schema.json" for topic in MESSAGE_TYPES
    )
    assert all(path.read_text(encoding="utf-8").startswith("{") for path in written)


def test_no_committed_schema_without_a_topic() -> None:
    committed = {path.name for path in schema_file("x").parent.glob("*.schema.json")}
    assert committed == {schema_file(topic).name for topic in MESSAGE_TYPES}
