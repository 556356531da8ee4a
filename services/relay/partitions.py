"""Which partition an outbox message goes to: chosen by the relay, as Kafka's default would.

The relay names the partition of every record itself, so that after a crash it knows where
each pending message would have gone. A keyed message goes where Kafka's default
partitioner (murmur2 of the key, Java's and aiokafka's: `services.runtime.partitions`)
sends it, so keys land on the partitions they always did; a message without a key (a dead
letter of a message that had none) goes by its row's id plus its index in the row.
"""

from __future__ import annotations

from services.runtime.partitions import default_partition


def partition_for(key: bytes | None, spread: int, partitions: int) -> int:
    """The partition among `partitions` of a message with `key`, or with none and `spread`
    (its outbox row's id plus its index)."""
    if key is None:
        return spread % partitions
    return default_partition(key, partitions)
