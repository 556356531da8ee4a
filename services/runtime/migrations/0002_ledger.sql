-- The ledger: the registry, limit usage, budgets, purchases and payouts. Each table is one
-- field of the engine's `Ledger` (engine/state.py); services load the rows a batch of
-- events touches, decide with the engine, and write the outcome back in one transaction.

create table members (
    member_id    text primary key,
    birth_date   date,
    birth_month  smallint,
    birth_day    smallint,
    union_branch text,
    -- [[registered_at, left_at or null], ...], oldest first
    memberships  jsonb not null default '[]',
    updated_at   timestamptz not null default now()
);
create index members_birthday on members (birth_month, birth_day);

-- Personal data, kept apart so that only the registry and masked finance views read it.
create table member_names (
    member_id text primary key,
    name      text not null
);

create table card_holdings (
    card_id    text primary key,
    -- [[member_id, issued_at, ended_at or null, end_reason or null], ...], oldest first
    holdings   jsonb not null,
    member_id  text not null,  -- the latest holder, for lookups by member
    updated_at timestamptz not null default now()
);
create index card_holdings_member on card_holdings (member_id);

create table limit_usage (
    member_id  text   not null,
    programme  text   not null,
    limit_name text   not null,
    period     text   not null,
    scope      text   not null default '',
    count      integer not null default 0 check (count >= 0),
    fen        bigint  not null default 0 check (fen >= 0),
    primary key (member_id, programme, limit_name, period, scope)
);

create table budget_spent (
    programme text    not null,
    year      integer not null,
    spent_fen bigint  not null default 0 check (spent_fen >= 0),
    primary key (programme, year)
);

create table purchases (
    transaction_id  text primary key,
    event_id        text    not null,
    member_id       text,
    programme       text,
    period          text,
    amount_fen      bigint  not null,
    earned_fen      bigint  not null default 0,
    refunded_fen    bigint  not null default 0,
    clawed_back_fen bigint  not null default 0 check (clawed_back_fen <= earned_fen),
    usage_keys      jsonb   not null default '[]',
    budget_year     integer,
    counted         boolean not null default false,
    count_returned  boolean not null default false,
    refund_ids      text[]  not null default '{}'
);

create table payouts (
    payout_id       text primary key,
    kind            text    not null check (kind in ('payout', 'clawback')),
    member_id       text    not null,
    programme       text    not null,
    amount_fen      bigint  not null check (amount_fen <> 0),
    source_event_id text    not null,
    transaction_id  text,
    period          text    not null,
    occurred_at     timestamptz not null,
    recorded_at     timestamptz not null default now(),
    trace           jsonb   not null
);
create index payouts_member on payouts (member_id, occurred_at);
create index payouts_programme_time on payouts (programme, occurred_at);
create index payouts_recorded on payouts (recorded_at, payout_id);
create index payouts_transaction on payouts (transaction_id) where transaction_id is not null;
