"""`puhui simulate --processes N`: members split across worker processes, the output the same.

A feed is decided member by member except for the programmes' yearly budgets (shared by
everyone) and a few keys that can tie two members together (a card reissued to another
member, a transaction id or event id seen on two cards). `route.Router` reads a line cheaply
and names the shard that owns its member, card, transaction and event id; every `worker`
reads the whole file and runs the same router over it, deciding its own lines with the
engine (nothing is sent to it); `merge.Merge` puts the payout lines back
in input order, replays the budgets across shards and corrects each payout's "budget left";
`run.run_sharded` drives them and falls back to one process from the first line where
sharding could differ (see docs/bench.md, "When the sharded path applies").
"""
