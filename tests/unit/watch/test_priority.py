"""The watch lowers its priority, and its session's where it leads one (Linux's autogroup)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.watch import bootstrap


@pytest.fixture
def niced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(bootstrap.os, "nice", calls.append)
    return calls


def test_a_session_leader_lowers_its_sessions_priority_too(
        niced: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bootstrap.os, "getsid", lambda _pid: os.getpid())
    autogroup = tmp_path / "autogroup"
    bootstrap.yield_to_hot_path(10, autogroup)
    assert niced == [10]
    assert autogroup.read_text() == "10\n"


def test_in_a_shared_session_it_leaves_the_others_alone(
        niced: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bootstrap.os, "getsid", lambda _pid: os.getpid() + 1)
    autogroup = tmp_path / "autogroup"
    bootstrap.yield_to_hot_path(10, autogroup)
    assert niced == [10]
    assert not autogroup.exists()


def test_without_autogroups_the_nice_value_is_enough(
        niced: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bootstrap.os, "getsid", lambda _pid: os.getpid())
    bootstrap.yield_to_hot_path(10, tmp_path / "no" / "autogroup")
    assert niced == [10]
