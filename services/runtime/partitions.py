"""Kafka's default partitioner, once: the partition murmur2 of a key gives among N.

Java's client and aiokafka both send a keyed record to `murmur2(key) & 0x7fffffff` modulo
the topic's partitions. The relay names each record's partition itself with it, and the
watch's replay and the synthetic feeds use it to know where a key lands.
"""

from __future__ import annotations

from functools import lru_cache

from aiokafka.partitioner import murmur2


@lru_cache(maxsize=65_536)
def _hashed(key: bytes) -> int:
    # a batch publishes a member's payout and its audit record under the same key
    return int(murmur2(key)) & 0x7FFFFFFF


def default_partition(key: bytes | str, partitions: int) -> int:
    """The partition among `partitions` that Kafka's default partitioner gives `key`."""
    return _hashed(key.encode() if isinstance(key, str) else key) % partitions
