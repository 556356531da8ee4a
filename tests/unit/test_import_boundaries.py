"""The boundaries of pyproject.toml's [tool.importlinter]: kept by the tree, broken by a
deliberately wrong import; the tools package forbidden to the product as a whole."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PRODUCT = {"schemas", "engine", "services"}
Contract = dict[str, Any]


def _contracts() -> list[Contract]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts: list[Contract] = config["contracts"]
    return contracts


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: the copy's packages, not the installed (editable) ones
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The four packages and pyproject.toml, copied: a place to break a boundary in."""
    for package in ("puhui", "engine", "services", "schemas"):
        shutil.copytree(REPO / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.json", "*.sql", "*.csv"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_tree_keeps_every_contract() -> None:
    done = _lint(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in done.stdout


@pytest.mark.parametrize(("module", "wrong", "contract"), [
    ("services/relay/relay.py", "from puhui.stack import config as _stack_config",
     "The product imports no development tool"),
    ("schemas/payouts.py", "import puhui.synthetic.feed",
     "The product imports no development tool"),
    ("engine/__init__.py", "import asyncpg", "The rules engine and the contract do no I/O"),
    ("engine/decide.py", "import puhui.simulate", "The product imports no development tool"),
    ("services/relay/relay.py", "from services.ledger.adapters import repository",
     "Only enrolment and disbursement build on the ledger"),
    ("services/runtime/outbox.py", "import services.audit",
     "Services share only the runtime and the ledger"),
])
def test_a_wrong_import_breaks_its_contract(tree: Path, module: str, wrong: str,
                                            contract: str) -> None:
    _append(tree / module, wrong)
    done = _lint(tree)
    assert done.returncode != 0
    broken = [line for line in done.stdout.splitlines() if line.endswith("BROKEN")]
    assert [line for line in broken if line.startswith(contract)] != [], done.stdout


def test_the_tools_package_is_forbidden_to_the_product_whole() -> None:
    """puhui holds the development tools and the CLI only: the product may import none of
    it, so a new tool module needs no naming to be kept out."""
    (tools,) = [c for c in _contracts() if c["name"] == "The product imports no development tool"]
    assert tools["forbidden_modules"] == ["puhui"]
    assert set(tools["source_modules"]) == PRODUCT
    assert not (REPO / "puhui" / "engine").exists()
