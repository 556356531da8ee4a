"""The KRaft cluster id never starts with "-", which kafka-storage would read as an option."""

import uuid
from unittest import mock

from puhui.stack.kafka import new_cluster_id


def test_an_id_that_would_start_with_a_dash_is_drawn_again() -> None:
    # 0xF8 as the first byte base64-encodes to "-" first; the second draw does not.
    dashed = uuid.UUID(bytes=b"\xf8" + b"\x00" * 15)
    plain = uuid.UUID(bytes=b"\x00" * 16)
    with mock.patch("puhui.stack.kafka.uuid.uuid4", side_effect=[dashed, plain]):
        cluster_id = new_cluster_id()
    assert cluster_id == "AAAAAAAAAAAAAAAAAAAAAA"


def test_ids_are_22_url_safe_characters() -> None:
    for _ in range(500):
        cluster_id = new_cluster_id()
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
