"""The processes of this machine, from /proc: parents, names and CPU ticks.

A tree's CPU is utime+stime of its live processes plus cutime+cstime, the time of children
they already reaped, so the difference of two samples stays exact when a process of the
tree exits in between.
"""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
Table = dict[int, tuple[int, str, int, int]]  # pid -> ppid, comm, own ticks, reaped ticks


def process_table() -> Table:
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()  # fields[0] is stat(5) field 3
        utime, stime, cutime, cstime = (int(v) for v in fields[11:15])  # fields 14-17
        table[int(entry.name)] = (int(fields[1]), comm, utime + stime, cutime + cstime)
    return table


def tree(table: Table, root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in table:
            found.append(pid)
            stack.extend(children.get(pid, []))
    return found


def parent_of(pid: int) -> int | None:
    entry = process_table().get(pid)
    return entry[0] if entry else None


def descendants_named(root: int, comm: str) -> list[int]:
    table = process_table()
    return [pid for pid in tree(table, root) if pid != root and table[pid][1] == comm]
