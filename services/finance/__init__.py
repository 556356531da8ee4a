"""Finance review: the payout stream, totals, decision trails, holds and settlement with the bank.

An HTTP API (FastAPI, documented by its OpenAPI schema) and a web page served with it, over
the payouts in PostgreSQL. `puhui finance serve` runs it; `puhui finance user add` makes staff.
"""
