"""Provides ``steady_allocator``: the same malloc behaviour for every target the client process measures.

asyncio reads each socket into a fresh 256 KiB buffer and shrinks it to the frame's size.
Above glibc's mmap threshold (128 KiB until a large mmapped block is freed, which raises it)
every such read is an ``mmap``, page faults and a ``munmap``; below it, unless the heap keeps what
a read leaves free, each read grows the heap and faults a page in again. Which side gets the slow
path depends on the process's history: the workshop run frees a large welcome early, which makes
glibc raise both thresholds, and the raw run never does. Measured in the paced workload at N=1,000, the client
process took 402,032 minor page faults and 4.8 s of CPU against the raw server, 9 faults and
2.2 s against the workshop server, and raw's last-client latency paid for it. Pinning the
threshold above the read size gives both sides the heap path.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
THRESHOLD = 1 << 20  # above asyncio's 256 KiB read buffer


def steady_allocator() -> bool:
    """Pin glibc's mmap threshold for this process; False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # musl, macOS: no mallopt, and no such threshold to pin
        return False
    # As glibc does when it raises the threshold itself: keep twice as much free at the top of
    # the heap, or the 256 KiB each read leaves behind is given back and faulted in again.
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, 2 * THRESHOLD))
