"""The ledger in PostgreSQL: load the slice of the engine's `Ledger` a batch of events touches,
decide with the engine, write the outcome back, all in one transaction. Shared by the
enrolment and disbursement services (one engine, one set of tables, one set of locks)."""
