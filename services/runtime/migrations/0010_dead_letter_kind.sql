-- The class of each dead letter's reason (schemas.dead_letters.DeadLetterKind), beside the
-- reason itself: `unprocessable` marks a valid message that recording failed on for good.
-- Rows from before this migration get the kind of a value that breaks its field's rule.
alter table dead_letters add column kind text not null default 'invalid_value';
