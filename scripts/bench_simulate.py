"""Time `puhui simulate` on a generated feed, and how much of it is reading the lines.

Run: .venv/bin/python scripts/bench_simulate.py [FEED]   (default /tmp/feed-1m.jsonl; make it
with `puhui generate --members 100000 --cards 80000 --events 820000 --out /tmp/feed-1m.jsonl`)
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

from puhui.engine.simulator import Simulator
from puhui.simulate import parse_line, run
from puhui.simulate_report import BadLines, Tally


def main() -> None:
    feed = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/feed-1m.jsonl")
    lines = list(enumerate(feed.read_bytes().splitlines(), 1))
    started = time.process_time()
    for _, line in lines:
        parse_line(line)
    parsing = time.process_time() - started
    out, tally, bad = io.BytesIO(), Tally(), BadLines()
    started = time.process_time()
    for _ in run(lines, Simulator(), out, tally, bad):
        pass
    total = time.process_time() - started
    payouts = out.getvalue().count(b"\n")
    print(f"{len(lines):,} lines, {payouts:,} payout lines, {bad.count} bad")
    print(f"reading (JSON + decode): {parsing:.1f} s CPU = {len(lines) / parsing:,.0f} lines/s")
    print(f"simulate, all of it:     {total:.1f} s CPU = {len(lines) / total:,.0f} lines/s")


if __name__ == "__main__":
    main()
