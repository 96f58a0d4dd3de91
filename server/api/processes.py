"""Is the process that wrote something still the one running under its pid?

A pid alone does not say: after a restart (a container's PID 1, above all) the new server may run
under the pid of the old one. A process that started after the thing was written cannot have
written it, so each check compares the process's start time with when it was written.
"""

import os
from functools import cache

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@cache
def boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            return next(float(line.split()[1]) for line in stat if line.startswith("btime "))
    except (OSError, StopIteration, ValueError):
        return None


def started_at(pid: int) -> float | None:
    """When the process started (Unix time), or None when that cannot be read (not Linux)."""
    boot = boot_time()
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = (
                stat.read().rsplit(")", 1)[1].split()
            )  # after the command name, which may hold spaces
    except (OSError, IndexError):
        return None
    return boot + int(fields[19]) / _TICKS if boot is not None else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def running_since(pid: int | None, written_at: float) -> bool:
    """The process `pid` is alive and had started by `written_at` (so it may be the writer)."""
    if not pid or not alive(pid):
        return False
    started = started_at(pid)
    return started is None or started <= written_at + 1  # a second of slack for the clocks' grain
