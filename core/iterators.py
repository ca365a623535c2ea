"""Iterate in a background thread, a few items ahead of the consumer.

    for chunk in read_ahead(parse(path)):   # parsing chunk k+1 while chunk k is sent
        send(chunk)

Made for a producer that spends its time outside the GIL (polars, file reads) and a
consumer that waits on the database: the two overlap on two cores. An exception in the
producer is raised in the consumer, at the point the failed item would have come; if
the consumer stops early, the producer stops at its next item and is closed. The
producer runs in the consumer's active language (translated messages stay right).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

from django.utils import translation

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterable[T], *, depth: int = 1) -> Iterator[T]:
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()

    def offer(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            with translation.override(language):
                for item in iterator:
                    if not offer((item, None)):
                        return
            offer((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            offer((_END, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = slots.get()
            if exc is not None:
                raise exc
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        worker.join()
