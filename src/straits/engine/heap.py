"""The one binary min-heap of the engine, compiled: timed entries on parallel arrays.

An entry is ``(minutes, seq, item)``, ordered by time and then by ``seq`` (a
counter the caller increases), so entries at equal times leave in the order
they were pushed and runs are deterministic. ``item`` is the caller's payload
(a lorry, a booth). The arrays are preallocated by the caller; ``size`` is
passed in and returned, as numba has no mutable integers.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def heap_push(minutes, seq, item, size, new_minutes, new_seq, new_item):
    """Add an entry; return the new size."""
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if minutes[parent] < new_minutes or (
            minutes[parent] == new_minutes and seq[parent] < new_seq
        ):
            break
        minutes[i] = minutes[parent]
        seq[i] = seq[parent]
        item[i] = item[parent]
        i = parent
    minutes[i] = new_minutes
    seq[i] = new_seq
    item[i] = new_item
    return size + 1


@njit(cache=True)
def heap_pop(minutes, seq, item, size):
    """Remove the root (the caller has read it already); return the new size."""
    size -= 1
    if size > 0:
        _sift_down(minutes, seq, item, size, minutes[size], seq[size], item[size])
    return size


@njit(cache=True)
def heap_replace_root(minutes, seq, item, size, new_minutes, new_seq, new_item):
    """Pop the root and push an entry in one pass (the size is unchanged)."""
    _sift_down(minutes, seq, item, size, new_minutes, new_seq, new_item)


@njit(cache=True)
def _sift_down(minutes, seq, item, size, new_minutes, new_seq, new_item):
    """Place an entry at the root's slot and move it down to where it belongs."""
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size and (
            minutes[right] < minutes[child]
            or (minutes[right] == minutes[child] and seq[right] < seq[child])
        ):
            child = right
        if minutes[child] < new_minutes or (
            minutes[child] == new_minutes and seq[child] < new_seq
        ):
            minutes[i] = minutes[child]
            seq[i] = seq[child]
            item[i] = item[child]
            i = child
        else:
            break
    minutes[i] = new_minutes
    seq[i] = new_seq
    item[i] = new_item
