"""Measure how many card transactions per second `schemas.decode.decode` reads.

Run: .venv/bin/python scripts/bench_decode.py [N]
"""

from __future__ import annotations

import sys
import time
import uuid

import orjson

from schemas.card_transactions import TOPIC
from schemas.decode import Invalid, decode


def _messages(count: int) -> list[bytes]:
    return [
        orjson.dumps(
            {
                "event_id": str(uuid.UUID(int=index)),
                "type": "purchase",
                "transaction_id": f"tx-{index}",
                "card_id": f"card-{index % 1000}",
                "amount_fen": 200 + index % 500,
                "currency": "CNY",
                "merchant_id": "m-zz-metro",
                "merchant_name": "Zhengzhou Metro",
                "mcc": "4111",
                "occurred_at": "2027-03-02T08:15:30+08:00",
            }
        )
        for index in range(count)
    ]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    messages = _messages(count)
    started = time.perf_counter()
    invalid = sum(isinstance(decode(TOPIC, raw), Invalid) for raw in messages)
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    print(f"{count:,} messages in {elapsed:.2f} s: {rate:,.0f} decodes/s ({invalid} invalid)")


if __name__ == "__main__":
    main()
