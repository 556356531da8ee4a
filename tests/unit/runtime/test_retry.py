"""The one retry layer: backoff, one give-up time for every try in a row, reset by progress."""

from __future__ import annotations

import asyncio

import pytest

from services.runtime.consumer import _with_retries
from services.runtime.errors import TransientFailure
from services.runtime.retry import GIVE_UP_SECONDS, MAX_DELAY_SECONDS, GaveUp, Retrying


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_the_wait_doubles_up_to_its_ceiling() -> None:
    retrying = Retrying(clock=_Clock())
    delays = [retrying.delay_after(TransientFailure("gone")) for _ in range(10)]
    assert delays[:4] == [0.2, 0.4, 0.8, 1.6]
    assert max(delays) == MAX_DELAY_SECONDS
    assert delays == sorted(delays)


def test_failures_in_a_row_give_up_at_the_stated_time_not_after_a_count() -> None:
    clock = _Clock()
    retrying = Retrying(clock=clock)
    retrying.delay_after(TransientFailure("first"))
    clock.now += GIVE_UP_SECONDS - 0.1
    retrying.delay_after(TransientFailure("still failing"))
    clock.now += 0.1
    with pytest.raises(GaveUp, match=r"for 120s in a row \(giving up after 120s\): last"):
        retrying.delay_after(TransientFailure("last"))


def test_progress_ends_the_run_of_failures() -> None:
    clock = _Clock()
    retrying = Retrying(clock=clock)
    retrying.delay_after(TransientFailure("gone"))
    clock.now += GIVE_UP_SECONDS - 1
    retrying.recovered()
    clock.now += 10
    assert retrying.delay_after(TransientFailure("gone again")) == 0.2


def test_gave_up_is_not_itself_transient() -> None:
    """The loop's restarts catch TransientFailure: giving up must get past them."""
    assert not issubclass(GaveUp, TransientFailure)


async def test_a_batch_is_retried_in_place_until_it_records(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncio, "sleep", _no_wait)
    outcomes: list[Exception | None] = [TransientFailure("gone"), OSError("reset"), None]

    async def record() -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    retrying = Retrying(clock=_Clock())
    await _with_retries(record, "record a batch", retrying)
    assert outcomes == []
    assert retrying.failing_since is None  # recorded: the run is over


async def test_the_batchs_retries_and_the_loops_share_one_give_up_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    retrying = Retrying(clock=clock)
    retrying.delay_after(TransientFailure("the loop restarted"))  # the outer layer's failure

    async def never() -> None:
        clock.now += 30
        raise TransientFailure("still gone")

    monkeypatch.setattr(asyncio, "sleep", _no_wait)
    with pytest.raises(GaveUp):
        await _with_retries(never, "record a batch", retrying)
    assert clock.now - 1_000.0 == pytest.approx(GIVE_UP_SECONDS)


async def _no_wait(_seconds: float) -> None:
    return None
