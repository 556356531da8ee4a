"""matplotlib is the optional `bench` extra: without it `puhui bench` refuses before a run."""

from __future__ import annotations

import importlib.util

import pytest
from click.testing import CliRunner

from puhui.bench import chart
from puhui.bench.cli import bench


def test_the_dev_install_has_it() -> None:
    chart.require_chart_library()


def test_without_it_the_bench_stops_at_once_saying_what_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    result = CliRunner().invoke(bench, ["--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "pip install 'puhui[bench]'" in result.output  # before any connection is tried
