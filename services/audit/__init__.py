"""The audit service: every decision on topic `audit`, kept in PostgreSQL as an append-only,
hash-chained trail that `puhui audit verify` can check end to end."""
