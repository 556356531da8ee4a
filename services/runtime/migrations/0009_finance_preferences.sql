-- Each finance user's language of the review page (and of the exports it asks for), so the
-- choice follows the person from one browser to another. Kept apart from finance_users
-- (credentials) on purpose: a preference is not an account change. A user removed takes
-- their preference with them.
create table finance_preferences (
    username   text primary key references finance_users (username) on delete cascade,
    language   text not null check (language in ('zh-CN', 'en')),
    updated_at timestamptz not null default now()
);
