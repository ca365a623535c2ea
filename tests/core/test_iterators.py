"""read_ahead: a producer thread a few items ahead, errors and early stops handled."""

import threading
import time

import pytest
from django.utils import translation
from django.utils.translation import gettext

from core.iterators import read_ahead


def test_items_come_in_order_from_another_thread():
    threads = []

    def numbers():
        for n in range(50):
            threads.append(threading.current_thread())
            yield n

    assert list(read_ahead(numbers(), depth=3)) == list(range(50))
    assert threading.current_thread() not in threads


def test_the_producer_works_while_the_consumer_waits():
    def slow(n):
        for i in range(n):
            time.sleep(0.05)
            yield i

    started = time.monotonic()
    for _item in read_ahead(slow(6)):
        time.sleep(0.05)  # the consumer's own work
    # Alone one after the other: 12 x 0.05 s; overlapped: about 7 x 0.05 s.
    assert time.monotonic() - started < 0.5


def test_an_error_in_the_producer_reaches_the_consumer_after_the_good_items():
    def failing():
        yield 1
        yield 2
        raise ValueError("baris 3 rusak")

    got = []
    with pytest.raises(ValueError, match="baris 3 rusak"):
        for item in read_ahead(failing()):
            got.append(item)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_closes_the_producer():
    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    for item in read_ahead(endless()):
        if item == 3:
            break
    assert closed.wait(2)


def test_the_producer_speaks_the_consumers_language():
    def messages():
        yield gettext("Masuk")

    with translation.override("en"):
        assert list(read_ahead(messages())) == ["Sign in"]
    with translation.override("id"):
        assert list(read_ahead(messages())) == ["Masuk"]
