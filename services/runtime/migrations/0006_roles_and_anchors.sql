-- Each service connects as a role of its own with only the rights it needs (grants.sql); the
-- owner (who runs the migrations: `puhui db migrate`) alone may change the schema, its
-- triggers and the audit trail. And the audit trail's format 2 (every column the Audit page shows is hashed)
-- and its signed anchors (docs/services.md, "The audit trail").

-- Roles belong to the server, not to one database: a second database on the same server
-- (the bench's) finds them made and only grants. A service role logs in, owns nothing and
-- may do nothing more than its grants. A later service (`watch`) takes its role the
-- same way: `select puhui_service_role('puhui_watch');` in its migration, its grants in
-- grants.sql.
-- A role made beforehand (by an operator's tooling, with its password) is taken as it is,
-- unless it has more power than a service role may have.
create function puhui_service_role(name text) returns void
language plpgsql as $$
begin
    if not exists (select from pg_roles where rolname = name) then
        execute format('create role %I login nosuperuser nocreatedb nocreaterole '
                       'noreplication nobypassrls noinherit', name);
    elsif exists (select from pg_roles where rolname = name and (rolsuper or rolcreaterole
                  or rolcreatedb or rolreplication or rolbypassrls or not rolcanlogin)) then
        raise exception 'role % exists but is not a plain login role', name
            using hint = 'a service role must log in and be no superuser, nor create roles '
                         'or databases, nor replicate, nor bypass row security';
    end if;
end
$$;
revoke execute on function puhui_service_role(text) from public;

select puhui_service_role(name) from unnest(array[
    'puhui_enrolment', 'puhui_disbursement', 'puhui_audit', 'puhui_relay', 'puhui_finance'
]) as name;

-- Nobody but the owner creates anything here (PostgreSQL 15 already says so; older did not).
revoke create on schema public from public;

-- What each role may do is not here but in services/runtime/grants.sql, which
-- `puhui db migrate` applies whole after every run of migrations: a table a later migration
-- creates is granted there, in one place, whatever order the migrations land in.

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
