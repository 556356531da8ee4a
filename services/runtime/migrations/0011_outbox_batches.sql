-- One outbox row per topic per transaction, carrying all of that transaction's messages for
-- the topic in order (message_keys[i], message_values[i]), instead of one row per message: a
-- ledger batch of 500 swipes wrote about 1,200 rows, which the relay then marked sent one by
-- one (docs/bench.md, "Outbox rows per batch").
--
-- Rows written before this migration become rows of one message each. A relay of the old
-- code on this schema fails on the dropped columns (loudly, and is restarted as the new
-- code rolls out) rather than publishing something else.
alter table outbox
    add column message_keys   bytea[],
    add column message_values bytea[];
update outbox set message_keys = array[key], message_values = array[value];
alter table outbox
    drop column key,
    drop column value,
    alter column message_keys set not null,
    alter column message_values set not null,
    add constraint outbox_messages_paired check (
        cardinality(message_values) > 0
        and cardinality(message_keys) = cardinality(message_values)),
    -- how many messages, without reading the arrays (the relay sizes its batches by it)
    add column message_count integer generated always as (cardinality(message_values)) stored;
-- lz4, not pglz: a row is a whole batch's JSON, and pglz costs several times the CPU
alter table outbox
    alter column message_keys set compression lz4,
    alter column message_values set compression lz4;

-- Message by message, for operations and tests: what a row of several messages holds.
create view outbox_messages as
select o.id, m.ordinality - 1 as index, o.topic, m.key, m.value, o.created_at, o.sent_at
from outbox as o,
     unnest(o.message_keys, o.message_values) with ordinality as m (key, value, ordinality);
