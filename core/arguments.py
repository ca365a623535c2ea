"""Argument types shared by the management commands."""

from __future__ import annotations

import argparse


def non_negative_int(raw: str) -> int:
    """An argparse `type`: a whole number 0 or more, else a one-line error naming the value."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"harus bilangan bulat 0 atau lebih, bukan {raw!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"harus bilangan bulat 0 atau lebih, bukan {value}")
    return value
