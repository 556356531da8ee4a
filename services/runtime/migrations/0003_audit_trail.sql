-- The audit trail: every decision, append-only and hash-chained (services/audit).
--
-- hash = sha256(prev_hash || canonical bytes of the record), prev_hash of seq 1 = 32 zero
-- bytes; the canonical bytes are defined in services/audit/domain/record.py (sorted-key
-- JSON of the AuditRecord fields, occurred_at in UTC with microseconds). Seqs run 1, 2, 3...
-- without gaps; `puhui audit verify` recomputes every hash in seq order.
create table audit_trail (
    seq             bigint      primary key check (seq > 0),
    audit_id        text        not null unique,
    decision        text        not null,
    reason          text,
    programme       text,
    member_id       text,
    card_id         text,
    source_event_id text        not null,
    source_topic    text        not null,
    transaction_id  text,
    amount_fen      bigint      not null,
    occurred_at     timestamptz not null,
    trace           jsonb       not null,
    recorded_at     timestamptz not null default now(),
    prev_hash       bytea       not null check (octet_length(prev_hash) = 32),
    hash            bytea       not null check (octet_length(hash) = 32)
);

-- What finance looks up: a member's decisions, a source event's, a purchase's, a period's.
create index audit_trail_member on audit_trail (member_id, occurred_at) where member_id is not null;
create index audit_trail_source_event on audit_trail (source_event_id);
create index audit_trail_transaction on audit_trail (transaction_id) where transaction_id is not null;
create index audit_trail_occurred on audit_trail (occurred_at);

-- The last link of the chain, one row. Appending instances lock it (select ... for update),
-- so concurrent batches join one chain one at a time; verify checks the trail ends here.
create table audit_chain_head (
    only_row boolean     primary key default true check (only_row),
    seq      bigint      not null check (seq >= 0),
    hash     bytea       not null check (octet_length(hash) = 32)
);
insert into audit_chain_head (seq, hash) values (0, decode(repeat('00', 32), 'hex'));

-- Append-only in the database too: an audit record is never changed or removed.
create function audit_trail_refuse_change() returns trigger
language plpgsql as $$
begin
    raise exception 'audit_trail is append-only: % is not allowed', tg_op
        using errcode = 'insufficient_privilege',
              hint = 'an audit record is never changed or removed; record a new decision instead';
end
$$;

create trigger audit_trail_append_only
    before update or delete or truncate on audit_trail
    for each statement execute function audit_trail_refuse_change();
