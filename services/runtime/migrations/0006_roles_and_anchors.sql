-- Each service connects as a role of its own with only the rights it needs; the owner (who
-- runs the migrations: `puhui db migrate`) alone may change the schema, its triggers and the
-- audit trail. And the audit trail's format 2 (every column the Audit page shows is hashed)
-- and its signed anchors (docs/services.md, "The audit trail").

-- Roles belong to the server, not to one database: a second database on the same server
-- (the bench's) finds them made and only grants. A service role logs in, owns nothing and
-- may do nothing more than its grants below. A later service (`watch`) takes its role the
-- same way: `select puhui_service_role('puhui_watch');` then its grants, in its migration.
create function puhui_service_role(name text) returns void
language plpgsql as $$
begin
    if not exists (select from pg_roles where rolname = name) then
        execute format('create role %I', name);
    end if;
    execute format('alter role %I login nosuperuser nocreatedb nocreaterole noreplication '
                   'nobypassrls noinherit', name);
end
$$;
revoke execute on function puhui_service_role(text) from public;

select puhui_service_role(name) from unnest(array[
    'puhui_enrolment', 'puhui_disbursement', 'puhui_audit', 'puhui_relay', 'puhui_finance'
]) as name;

-- Nobody but the owner creates anything here (PostgreSQL 15 already says so; older did not).
revoke create on schema public from public;

-- Every service: which schema version the database is at (it refuses to start behind it).
grant select on schema_migrations
    to puhui_enrolment, puhui_disbursement, puhui_audit, puhui_relay, puhui_finance;

-- Enrolment and disbursement: the same ledger code (services/ledger), the same rights.
-- payout_daily_totals is written by the trigger on payouts, which runs as the inserter.
grant select, insert on processed_events to puhui_enrolment, puhui_disbursement;
grant select, insert, update on members, card_holdings, limit_usage, budget_spent, purchases,
    held_events, payout_daily_totals to puhui_enrolment, puhui_disbursement;
-- (names are personal data, but the upsert that writes them must read them: PostgreSQL asks
-- SELECT on every column an ON CONFLICT DO UPDATE touches)
grant select, insert, update on member_names to puhui_enrolment, puhui_disbursement;
grant select, insert on payouts to puhui_enrolment, puhui_disbursement;
-- (0005) a block before its card's issue is kept until the issue applies it, then removed
grant select, insert, update, delete on early_card_stops to puhui_enrolment, puhui_disbursement;
grant select, insert on days_started to puhui_enrolment, puhui_disbursement;

-- The outbox and dead letters: every service that records something sends through them.
grant insert on outbox to puhui_enrolment, puhui_disbursement, puhui_audit, puhui_finance;
grant usage on sequence outbox_id_seq
    to puhui_enrolment, puhui_disbursement, puhui_audit, puhui_finance;
grant select, insert on dead_letters to puhui_enrolment, puhui_disbursement, puhui_audit;
grant usage on sequence dead_letters_id_seq to puhui_enrolment, puhui_disbursement, puhui_audit;

-- The relay reads the outbox and marks what it sent; its probe counts held events whose key
-- is known (services/runtime/probes.py), reading only the keys.
grant select, update (sent_at) on outbox to puhui_relay;
grant select (waiting_for, waiting_key, released_at) on held_events to puhui_relay;
grant select (card_id) on card_holdings to puhui_relay;
grant select (member_id) on members to puhui_relay;
grant select (transaction_id) on purchases to puhui_relay;

-- The audit service appends: INSERT only, never UPDATE, DELETE or TRUNCATE (and without
-- ownership it cannot disable audit_trail_append_only, nor set session_replication_role).
grant select, insert on audit_trail to puhui_audit;
grant select, update on audit_chain_head to puhui_audit;

-- Finance reads the ledger and the trail, and keeps its own tables.
grant select on payouts, payout_daily_totals, budget_spent, held_events, dead_letters,
    audit_trail, members, member_names, card_holdings to puhui_finance;
grant select, insert, update on settlement_batches, payout_settlement to puhui_finance;
grant select, insert, update, delete on finance_users to puhui_finance;
grant select, insert, delete on finance_sessions to puhui_finance;

-- Format 2 of the chain (services/audit/domain/chain.py): a link also hashes its seq, its
-- recorded_at and the actor of a finance action. The links already there stay format 1 and
-- verify as they were hashed; a format 1 link after a format 2 link breaks the chain.
alter table audit_trail
    add column format smallint not null default 1 check (format in (1, 2)),
    add column actor text;

-- The chain's head as the audit service signed it (Ed25519, with a key the database never
-- sees), also sent to topic `audit`. `puhui audit anchor` keeps the newest as a file; an
-- anchor cannot be forged here, only deleted, and a kept file outlives that.
create table audit_anchors (
    seq       bigint      not null check (seq > 0),
    hash      bytea       not null check (octet_length(hash) = 32),
    signed_at timestamptz not null,
    key_id    text        not null,
    signature bytea       not null check (octet_length(signature) = 64),
    primary key (seq, key_id)
);
grant select, insert on audit_anchors to puhui_audit;
grant select on audit_anchors to puhui_finance;
