"""The relay puts keyed rows where Kafka's default partitioner would."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from services.relay.partitions import partition_for
from services.runtime.partitions import default_partition


def test_keyed_rows_land_where_the_default_partitioner_puts_them() -> None:
    default = DefaultPartitioner()
    for count in (1, 4, 8):
        for key in (b"M00002680", b"M00000001", b"alice", b"", "会员".encode()):
            assert partition_for(key, 17, count) == default(key, list(range(count)), [])


def test_the_partitions_kafkas_java_client_chooses() -> None:
    # Utils.toPositive(Utils.murmur2(key)) % 4 in kafka-clients 4.1.2, run through jshell
    keys = (b"M00002680", b"M00000001", b"alice", b"a", b"foo")
    assert [partition_for(k, 0, 4) for k in keys] == [3, 2, 1, 0, 0]


def test_rows_without_a_key_spread_by_outbox_id() -> None:
    assert [partition_for(None, i, 4) for i in range(6)] == [0, 1, 2, 3, 0, 1]


def test_a_text_key_lands_where_its_utf8_bytes_do() -> None:
    """The watch's replay and the synthetic feeds pass card and merchant ids as text."""
    default = DefaultPartitioner()
    for key in ("C-000123", "M00000001", "会员"):
        assert default_partition(key, 8) == default(key.encode(), list(range(8)), [])
