"""Record and principal ids: time-sortable UUIDv7 strings, one lowercase form."""

from __future__ import annotations

import os

import uuid6

ID_LENGTH = 36
# a batch's ids share one millisecond and count up within it: 20 bits of a counter (the
# 12 of rand_a and the top 8 of rand_b), 54 random bits after it
_SEQUENCE_BITS = 20
_RANDOM_BITS = 54
_BATCH_LIMIT = 1 << _SEQUENCE_BITS
_VARIANT = 0b10 << 62


def new_id() -> str:
    """Return a new globally unique, time-sortable id (UUIDv7, lowercase, 36 chars)."""
    return str(uuid6.uuid7())


def new_ids(count: int) -> list[str]:
    """``count`` new ids as :func:`new_id` makes them, in ascending order: for a batch.

    One clock reading and one draw of randomness serve them all (uuid6 draws from the
    system for each id: a twentieth of an import's time). They share the millisecond of
    an id taken from uuid6's monotonic clock, so ids made later sort after them, and
    count up within it (RFC 9562's counter in ``rand_a``); 54 random bits follow.
    """
    out: list[str] = []
    for start in range(0, count, _BATCH_LIMIT):
        size = min(_BATCH_LIMIT, count - start)
        stamp = f"{uuid6.uuid7().int >> 80:012x}"
        clock = f"{stamp[:8]}-{stamp[8:]}-7"
        noise = os.urandom(8 * size)
        for i in range(size):
            random = int.from_bytes(noise[8 * i : 8 * i + 8]) >> (64 - _RANDOM_BITS)
            low = f"{_VARIANT | ((i & 0xFF) << _RANDOM_BITS) | random:016x}"
            out.append(f"{clock}{i >> 8:03x}-{low[:4]}-{low[4:]}")
    return out
