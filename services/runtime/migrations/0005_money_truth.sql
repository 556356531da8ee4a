-- The rules of docs/PRODUCT.md on held events, blocks before issues and late registrations.

-- Rule 1: events released together are decided in the order they first arrived, so every
-- held event keeps where it arrived (topic, partition, offset). Rows held before this
-- migration keep their old order (held_at, event_id) after those with a known place.
alter table held_events
    add column arrival_topic     text    not null default '',
    add column arrival_partition integer not null default 0,
    add column arrival_offset    bigint  not null default 0;

-- Rule 3: a block or cancel that arrives before the card's issue is kept until the issue.
create table early_card_stops (
    card_id text  primary key,
    -- [[member_id, at, reason], ...] in arrival order
    stops   jsonb not null
);

-- Rule 4: the days ticked, so a registration that arrives after its birthday's tick pays
-- that day's gift with the tick as its source.
create table days_started (
    day         date     primary key,
    event_id    text     not null,
    birth_month smallint not null,
    birth_day   smallint not null
);
create index days_started_birthday on days_started (birth_month, birth_day);
