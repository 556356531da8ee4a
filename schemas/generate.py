"""Write the JSON Schema of every topic, generated from the models, into `schemas/json/`.

Run `python -m schemas.generate` after changing a model; a unit test fails while the
committed files differ from what the models generate.
"""

from __future__ import annotations

import json
from pathlib import Path

from schemas.registry import MESSAGE_TYPES

JSON_DIR = Path(__file__).parent / "json"


def schema_file(topic: str) -> Path:
    """Where the JSON Schema of `topic` is committed."""
    return JSON_DIR / f"{topic}.schema.json"


def render(topic: str) -> str:
    """The JSON Schema text of one topic's messages, as committed."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"puhui:{topic}",
        "title": topic,
    } | MESSAGE_TYPES[topic].json_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def generate(json_dir: Path = JSON_DIR) -> list[Path]:
    """Write every topic's JSON Schema into `json_dir`; returns the files written."""
    json_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for topic in MESSAGE_TYPES:
        path = json_dir / schema_file(topic).name
        path.write_text(render(topic), encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    """Entry point of `python -m schemas.generate`."""
    for path in generate():
        print(path)


if __name__ == "__main__":
    main()
