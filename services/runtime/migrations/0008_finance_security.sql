-- Finance hardening (docs/finance.md, "Security"): API tokens for machine clients, and the
-- failed sign-ins that throttle guessing.

-- A machine client's token (`Authorization: Bearer`), made with `puhui finance token add`.
-- Only the SHA-256 of its text is kept. It acts as its user with `role`, which may be
-- narrower than the user's own; it stops working when the user's role no longer covers it.
create table finance_api_tokens (
    token_id     text        primary key check (token_id ~ '^tok_[a-z0-9]{10}$'),
    token_sha256 bytea       not null unique check (octet_length(token_sha256) = 32),
    username     text        not null references finance_users on delete cascade,
    role         text        not null check (role in ('viewer', 'preparer', 'approver', 'admin')),
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null
);
create index finance_api_tokens_user on finance_api_tokens (username);

-- Failed sign-ins of one user name (`user:NAME`) or one address (`address:IP`), and until
-- when the next attempt is refused without checking its password (back-off).
create table finance_sign_in_failures (
    key            text        primary key,
    failures       integer     not null check (failures > 0),
    last_failed_at timestamptz not null,
    locked_until   timestamptz not null
);
