-- A payout's trace is kept as `json` (the text as the ledger wrote it, checked to be JSON),
-- not `jsonb`: nothing queries inside it (finance reads it whole and parses it), and
-- building the jsonb form is the costly part of writing it. Binary COPY of 20,000 six-step
-- traces into a table of each type: PostgreSQL spent 9.0-10.5 us of CPU per row for jsonb
-- and 4.0-4.5 us for json (docs/bench.md, "A payout's trace as json"). The ledger writes
-- it while its batch holds the budget rows, so it is on the hot path.
-- The table is rewritten once (the traces of earlier payouts become their jsonb text).
alter table payouts alter column trace type json using trace::json;
