"""What if: replay the recorded inbound events under another catalogue and compare.

`puhui simulate --from-kafka` reads `member.enrolment`, `card.transactions` and `clock.days`
from the broker (`kafka_source`), feeds them to the engine in the order a live service saw
them, and with `--against-ledger` compares what it would pay with what PostgreSQL recorded
(`ledger`, `compare`, `report`).
"""
