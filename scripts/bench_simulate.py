"""Time `puhui simulate` on a generated feed, and how much of it is reading the lines.

Run: .venv/bin/python scripts/bench_simulate.py FEED   (make a 1M-line FEED with
`puhui generate --members 100000 --cards 80000 --events 820000 --out FEED`)
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

from engine.simulator import Simulator
from puhui.simulate import parse_line, rarer_collections, run
from puhui.simulate_report import BadLines, Tally


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    feed = Path(sys.argv[1])
    lines = list(enumerate(feed.read_bytes().splitlines(), 1))
    started = time.process_time()
    for _, line in lines:
        parse_line(line)
    parsing = time.process_time() - started
    out, tally, bad = io.BytesIO(), Tally(), BadLines()
    started = time.process_time()
    with rarer_collections():
        for _ in run(lines, Simulator(), out, tally, bad):
            pass
    total = time.process_time() - started
    payouts = out.getvalue().count(b"\n")
    print(f"{len(lines):,} lines, {payouts:,} payout lines, {bad.count} bad")
    print(f"reading (JSON + decode): {parsing:.1f} s CPU = {len(lines) / parsing:,.0f} lines/s")
    print(f"simulate, all of it:     {total:.1f} s CPU = {len(lines) / total:,.0f} lines/s")


if __name__ == "__main__":
    main()
