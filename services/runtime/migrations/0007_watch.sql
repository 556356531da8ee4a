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

-- The watch signs in as its own role (0006's function); what it and finance may do with these
-- rows is in services/runtime/grants.sql, applied after every run of migrations. On a database
-- already past 0007's number (0008-0010 first), `puhui db migrate` applies it all the same: it
-- applies every version not in schema_migrations, not only those above the highest.
select puhui_service_role('puhui_watch');
