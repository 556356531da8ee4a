"""Where the page's files are (the API reads its message catalogues from there too)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

STATIC = Path(str(resources.files("services.finance") / "static"))
