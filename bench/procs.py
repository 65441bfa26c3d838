"""A server's process tree, read from /proc: its descendants, and their resident memory.

    python bench/procs.py tree PID              # the pids of PID's descendants, one a line
    python bench/procs.py rss PID [--after S]   # "SERVER_KB DESCENDANTS_KB COUNT": VmRSS of
        # PID, the sum over its descendants (the model workers), how many there are; --after
        # waits S seconds first (to sample while a load runs)
    python bench/procs.py cpu PID               # CPU seconds (user + system) PID and its live
        # descendants have used so far

Only the standard library: it runs before the benchmark's environment exists, and in cleanup.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

PROC = Path("/proc")


def parent_of(pid: int) -> int | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields after it are fixed.
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            parent = parent_of(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_kb(pid: int) -> int:
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # a kernel thread or a zombie


def cpu_seconds(pid: int) -> float:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    # utime and stime, then the children the process waited for (cutime, cstime).
    ticks = sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def main(argv: list[str]) -> int:
    after = 0.0
    if len(argv) == 4 and argv[0] == "rss" and argv[2] == "--after":
        after = float(argv[3])
        argv = argv[:2]
    if len(argv) != 2 or argv[0] not in ("tree", "rss", "cpu") or not argv[1].isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    time.sleep(after)
    root = int(argv[1])
    below = descendants(root)
    if argv[0] == "tree":
        print("\n".join(map(str, below)))
    elif argv[0] == "cpu":
        print(f"{cpu_seconds(root) + sum(cpu_seconds(p) for p in below):.3f}")
    else:
        print(rss_kb(root), sum(rss_kb(p) for p in below), len(below))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
