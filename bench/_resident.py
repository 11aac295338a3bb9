"""The resident memory of a group of processes with every physical page counted once.

Summing each process's RSS counts a page once per process that maps it: the Python runtime,
libc and SQLite, mapped by the parent and by every warm execution environment, are counted
eight times with seven environments. PSS divides each shared page among all the processes on
the machine that map it, so it also leaves out part of the pages Heron shares with anything
else. The union of the physical pages the processes have resident is what they hold of the
machine's memory, the way a container's memory figure (``docker stats``) counts each page once.

Linux gives a page's frame number in ``/proc/PID/pagemap`` only to root (CAP_SYS_ADMIN);
elsewhere the numbers read as 0 and ``resident_bytes`` answers None.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

_PAGE = 4096
_PRESENT = 1 << 63
_PFN_MASK = (1 << 55) - 1


def _resident_ranges(pid: int) -> list[tuple[int, int]]:
    """(start, end) of each mapping of ``pid`` with any resident page, from its smaps."""
    ranges: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            head = line.split(None, 1)[0]
            if "-" in head and not head.endswith(":"):
                start, end = (int(part, 16) for part in head.split("-"))
                current = (start, end)
            elif head == "Rss:" and current is not None and int(line.split()[1]) > 0:
                ranges.append(current)
    return ranges


def resident_frames(pid: int) -> set[int]:
    """The physical frame numbers of every page ``pid`` has resident (0 for each when unreadable)."""
    frames: set[int] = set()
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for start, end in _resident_ranges(pid):
            pagemap.seek(start // _PAGE * 8)
            entries = pagemap.read((end - start) // _PAGE * 8)
            frames.update(
                entry & _PFN_MASK
                for (entry,) in struct.iter_unpack("<Q", entries)
                if entry & _PRESENT
            )
    return frames


def resident_bytes(pids: Iterable[int]) -> int | None:
    """Bytes resident in any of ``pids``, each physical page once (None without frame numbers)."""
    frames: set[int] = set()
    for pid in pids:
        try:
            frames |= resident_frames(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue  # the process ended meanwhile (an environment being reaped)
        except PermissionError:
            return None
    if frames and frames == {0}:
        return None
    return len(frames) * _PAGE
