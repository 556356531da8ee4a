"""What the watch is called on the broker: its consumer groups and its own topics.

Apart from the faust app (`adapters/stream.py`) so that a tool can name them (the bench
deletes them for a clean run and reads the groups' progress) without importing faust.
"""

from __future__ import annotations

APP_ID = "puhui-watch"
"""Names the consumer groups, the changelog topics and the internal topics."""
INTERNAL = ("merchant-swipes", "card-swipes", "paid-join")
"""The internal topics between the intake and the agents (`<app>-<name>`)."""
INTERNAL_PARTITIONS = 8


def internal_topic(app_id: str, name: str) -> str:
    return f"{app_id}-{name}"


def internal_topics(app_id: str = APP_ID) -> tuple[str, ...]:
    return tuple(internal_topic(app_id, name) for name in INTERNAL)


def intake_group(app_id: str = APP_ID) -> str:
    """The intake's group: it commits what it read of `card.transactions` and `payouts`."""
    return f"{app_id}-intake"


def agents_group(app_id: str = APP_ID) -> str:
    """faust's own group (the app id): the agents' progress on the internal topics."""
    return app_id


def owns_topic(topic: str, app_id: str = APP_ID) -> bool:
    """An internal topic or a table's changelog (`<app>-<table>-changelog`) of the app."""
    return topic.startswith(f"{app_id}-")
