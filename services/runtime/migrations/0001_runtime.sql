-- What every service shares: the processed-event markers, the outbox, dead letters, held events.

-- One row per inbound event the ledger has taken (decided or held); its primary key makes a
-- redelivered or resent message (same event_id) a no-op. Written in the same transaction as
-- the effect, whichever service (enrolment, disbursement) took it.
create table processed_events (
    event_id     text        primary key,
    processed_at timestamptz not null default now()
);

-- Events leave through here: written in the same transaction as the payout, published in
-- id order by the relay with the idempotent producer, then marked sent.
create table outbox (
    id         bigserial   primary key,
    topic      text        not null,
    key        bytea,
    value      bytea       not null,
    created_at timestamptz not null default now(),
    sent_at    timestamptz
);
create index outbox_unsent on outbox (id) where sent_at is null;

-- A copy of every dead letter, for finance and operations to see without a Kafka client.
create table dead_letters (
    id           bigserial   primary key,
    consumer     text        not null,
    source_topic text        not null,
    partition    integer     not null,
    "offset"     bigint      not null,
    reason       text        not null,
    raw          bytea       not null,
    received_at  timestamptz not null default now(),
    unique (consumer, source_topic, partition, "offset")
);

-- Events that wait for something: a swipe for a card not yet issued, a refund before its
-- purchase, a certification before its member. Released when what they wait for arrives.
create table held_events (
    event_id     text        primary key,
    waiting_for  text        not null check (waiting_for in ('card', 'member', 'purchase')),
    waiting_key  text        not null,
    source_topic text        not null,
    payload      jsonb       not null,
    occurred_at  timestamptz not null,
    held_at      timestamptz not null default now(),
    released_at  timestamptz
);
create index held_waiting on held_events (waiting_for, waiting_key) where released_at is null;
