-- The watch (services/watch): signals of possible subsidy abuse, and finance's review of them.
-- A signal is advice to people: nothing here is read by the ledger, no payout depends on it.

create table watch_signals (
    signal_id    text        primary key,
    rule         text        not null check (rule in ('merchant_burst', 'subsidy_maximising',
                                                      'refund_ratio', 'card_velocity')),
    key_kind     text        not null check (key_kind in ('merchant', 'card')),
    key          text        not null,
    window_start timestamptz not null,
    window_end   timestamptz not null,
    observed_at  timestamptz not null,
    figures      jsonb       not null,
    thresholds   jsonb       not null,
    examples     text[]      not null default '{}',
    raised_at    timestamptz not null default now(),
    status       text        not null default 'open'
                             check (status in ('open', 'reviewed', 'escalated')),
    reviewed_by  text,
    reviewed_at  timestamptz,
    note         text,
    -- raised once per rule, key and window: a replay after a restart inserts nothing
    unique (rule, key, window_start)
);
create index watch_signals_open on watch_signals (raised_at desc, signal_id) where status <> 'reviewed';
create index watch_signals_key on watch_signals (key_kind, key, window_start);

-- Per-service database roles (if they exist; migration 0006 makes them): the watch inserts
-- signals and their outbox rows; finance reads signals and records their review. Rename the
-- roles here if 0006 names them otherwise.
do $$
begin
    if exists (select from pg_roles where rolname = 'puhui_watch') then
        grant select, insert on watch_signals to puhui_watch;
        grant insert on outbox to puhui_watch;
        grant usage on sequence outbox_id_seq to puhui_watch;
    end if;
    if exists (select from pg_roles where rolname = 'puhui_finance') then
        grant select on watch_signals to puhui_finance;
        grant update (status, reviewed_by, reviewed_at, note) on watch_signals to puhui_finance;
    end if;
end
$$;
