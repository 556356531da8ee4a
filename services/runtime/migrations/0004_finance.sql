-- Finance review (services/finance): staff and their sessions, settlement batches, each
-- payout's way to the bank, the daily totals the charts read, and the indexes that keep the
-- review queries fast with a month of payouts for 1.75 million members (docs/finance.md).

-- The merchant of a card payout, from its source transaction. Nullable: the ledger fills
-- them for new payouts (services/ledger); payouts recorded before stay without.
alter table payouts add column merchant_id text, add column merchant_name text;

-- The stream's filters, each with the stream's keyset order (recorded_at, payout_id).
create index payouts_programme_recorded on payouts (programme, recorded_at, payout_id);
create index payouts_merchant_recorded on payouts (merchant_id, recorded_at, payout_id)
    where merchant_id is not null;
-- A view with a date range is ordered by when its payouts occurred (docs/finance.md).
create index payouts_occurred on payouts (occurred_at, payout_id);
-- Payouts over 1,000 CNY need their own approval: the queue of them stays small.
create index payouts_large on payouts (recorded_at, payout_id) where abs(amount_fen) > 100000;

create table finance_users (
    username      text        primary key check (username ~ '^[a-z0-9][a-z0-9._-]{1,39}$'),
    role          text        not null check (role in ('viewer', 'preparer', 'approver', 'admin')),
    password_hash text        not null,
    created_at    timestamptz not null default now()
);

-- Only the sha256 of a session token is kept: a leaked table signs no one in.
create table finance_sessions (
    token_sha256 bytea       primary key check (octet_length(token_sha256) = 32),
    username     text        not null references finance_users on delete cascade,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null
);
create index finance_sessions_expiry on finance_sessions (expires_at);

-- One programme's payouts of one Shanghai day, on their way to the bank. A day can have
-- several batches (late payouts, or payouts the bank failed and review sent back).
create table settlement_batches (
    batch_id      text        primary key,
    programme     text        not null,
    business_day  date        not null,
    status        text        not null check (status in ('prepared', 'approved', 'exported', 'closed')),
    payout_count  integer     not null check (payout_count >= 0),
    total_fen     bigint      not null,
    prepared_by   text        not null,
    prepared_at   timestamptz not null,
    approved_by   text,
    approved_at   timestamptz,
    exported_by   text,
    exported_at   timestamptz,
    -- four eyes, in the database too: whoever approves did not prepare
    check (approved_by is null or approved_by <> prepared_by)
);
create index settlement_batches_day on settlement_batches (programme, business_day);
create index settlement_batches_status on settlement_batches (status, prepared_at);

-- A payout's settlement, once finance has touched it (no row: pending, never batched).
-- recorded_at and amount_fen are the payout's, copied so that the stream's status filter
-- keeps its keyset and a batch's sums and checks need not read the payouts again.
create table payout_settlement (
    payout_id      text        primary key references payouts,
    recorded_at    timestamptz not null,
    amount_fen     bigint      not null,
    state          text        not null check (state in ('pending', 'batched', 'exported', 'settled', 'failed')),
    batch_id       text        references settlement_batches,
    approved_by    text,
    approved_at    timestamptz,
    bank_reference text,
    failure_reason text,
    updated_at     timestamptz not null default now(),
    check ((state in ('pending')) = (batch_id is null))
);
create index payout_settlement_batch on payout_settlement (batch_id) where batch_id is not null;
create index payout_settlement_state on payout_settlement (state, recorded_at, payout_id);

-- Totals per programme per Shanghai day, kept by the insert that records the payouts (one
-- statement-level trigger per insert statement, over its transition table). The ledger
-- inserts a programme's payouts only under that programme's budget row lock (for update),
-- and a day belongs to one budget year, so these upserts add no new lock order.
create table payout_daily_totals (
    programme        text    not null,
    day              date    not null,
    payouts          bigint  not null default 0,
    paid_fen         bigint  not null default 0,
    clawbacks        bigint  not null default 0,
    clawed_back_fen  bigint  not null default 0,
    primary key (programme, day)
);

create function payout_daily_totals_add() returns trigger
language plpgsql as $$
begin
    insert into payout_daily_totals as t (programme, day, payouts, paid_fen, clawbacks,
                                          clawed_back_fen)
    select programme, (occurred_at at time zone 'Asia/Shanghai')::date,
           count(*) filter (where amount_fen > 0),
           coalesce(sum(amount_fen) filter (where amount_fen > 0), 0),
           count(*) filter (where amount_fen < 0),
           coalesce(-sum(amount_fen) filter (where amount_fen < 0), 0)
      from recorded
     group by 1, 2
     order by 1, 2
    on conflict (programme, day) do update
       set payouts = t.payouts + excluded.payouts,
           paid_fen = t.paid_fen + excluded.paid_fen,
           clawbacks = t.clawbacks + excluded.clawbacks,
           clawed_back_fen = t.clawed_back_fen + excluded.clawed_back_fen;
    return null;
end
$$;

create trigger payouts_daily_totals
    after insert on payouts referencing new table as recorded
    for each statement execute function payout_daily_totals_add();

-- The payouts recorded before this migration.
insert into payout_daily_totals (programme, day, payouts, paid_fen, clawbacks, clawed_back_fen)
select programme, (occurred_at at time zone 'Asia/Shanghai')::date,
       count(*) filter (where amount_fen > 0),
       coalesce(sum(amount_fen) filter (where amount_fen > 0), 0),
       count(*) filter (where amount_fen < 0),
       coalesce(-sum(amount_fen) filter (where amount_fen < 0), 0)
  from payouts group by 1, 2;

-- What finance did, newest first, without scanning the decisions of the whole trail.
create index audit_trail_finance on audit_trail (seq) where source_topic = 'finance';
-- Denials and holds of a member, and the latest decisions.
create index held_events_waiting_age on held_events (held_at) where released_at is null;
