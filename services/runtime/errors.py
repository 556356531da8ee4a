"""The failure kinds every service tells apart (see docs/services.md).

- invalid input: never retried, dead-lettered with its reason, offset committed past it;
- transient infrastructure failure: retried with backoff, then the service stops loudly so
  Kafka redelivers from the last committed offset (nothing is dead-lettered for it);
- a dead-letter rate over the limit: the service stops rather than drain the feed into the DLQ.
"""

from __future__ import annotations


class TransientFailure(Exception):
    """Kafka or PostgreSQL did not answer; the work is retried, never dead-lettered."""


class DeadLetterLimitExceeded(Exception):
    """Too many invalid messages in a row of recent ones: stop instead of draining the feed."""
