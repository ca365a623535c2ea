"""Time-ordered public ids (UUID version 7)."""

import time
import uuid

import time_machine

from core.ids import uuid7


def test_uuid7_is_version_7_rfc_variant_with_the_time_in_its_first_48_bits():
    with time_machine.travel(1_795_000_000.123, tick=False):
        value = uuid7()
    assert value.version == 7 and value.variant == uuid.RFC_4122
    assert abs((value.int >> 80) - 1_795_000_000_123) <= 1  # (the clock is a float here)


def test_uuid7_sorts_in_the_order_made_and_is_not_guessable():
    made = []
    for _ in range(3):
        made.append(uuid7())
        time.sleep(0.002)
    assert made == sorted(made)
    same_ms = {uuid7() for _ in range(1000)}
    assert len(same_ms) == 1000  # 74 random bits each
