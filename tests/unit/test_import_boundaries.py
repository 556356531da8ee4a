"""The boundaries of pyproject.toml's [tool.importlinter]: kept by the tree, broken by a
deliberately wrong import, and naming every module of `puhui` as product or tool."""

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
PRODUCT_IN_PUHUI = {"puhui.engine"}
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
    """The three packages and pyproject.toml, copied: a place to break a boundary in."""
    for package in ("puhui", "services", "schemas"):
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
    ("puhui/engine/__init__.py", "import asyncpg", "The rules engine and the contract do no I/O"),
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


def test_every_module_of_puhui_is_product_or_a_named_tool() -> None:
    """A new module under puhui must be put on one side, so a tool cannot slip in unnamed."""
    (tools,) = [c for c in _contracts() if c["name"] == "The product imports no development tool"]
    named = set(tools["forbidden_modules"]) | PRODUCT_IN_PUHUI
    found = {f"puhui.{p.stem if p.is_file() else p.name}" for p in (REPO / "puhui").iterdir()
             if (p.suffix == ".py" and p.stem != "__init__")
             or (p.is_dir() and (p / "__init__.py").exists())}
    assert sorted(found - named) == []
    assert set(tools["source_modules"]) >= PRODUCT_IN_PUHUI
