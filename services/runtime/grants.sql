-- What each service's role may do: the whole truth, applied by `puhui db migrate` after the
-- migrations, in one transaction (services/runtime/db.py). Everything is revoked first, so a
-- grant taken out here is gone from the database too. A migration that creates a table adds
-- its grants here; tests/integration/test_database_roles.py fails for a table no service role
-- may use. The roles come from migration 0006; docs/services.md has this as a table.

revoke all on all tables in schema public
    from puhui_enrolment, puhui_disbursement, puhui_audit, puhui_relay, puhui_finance;
revoke all on all sequences in schema public
    from puhui_enrolment, puhui_disbursement, puhui_audit, puhui_relay, puhui_finance;

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
grant select on outbox_messages to puhui_relay;  -- the same rows, message by message
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

-- The trail's anchors (0006): the audit service signs them, finance may read them.
grant select, insert on audit_anchors to puhui_audit;
grant select on audit_anchors to puhui_finance;

-- Finance's API tokens and sign-in lockouts (0008).
grant select, insert, delete on finance_api_tokens to puhui_finance;
grant select, insert, update, delete on finance_sign_in_failures to puhui_finance;

-- Each finance user's language (0009).
grant select, insert, update, delete on finance_preferences to puhui_finance;
