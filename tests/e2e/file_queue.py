# SPDX-License-Identifier: GPL-2.0
"""Test files taken one at a time from a queue that guests booted side by
side share (SHP_QUEUE: a directory, tests/vm/run -s), so that they end
together whatever the host's speed: make test's debug kernel parts.

The host writes one empty entry per test file, NN-test_x.py, NN its place
in the queue. A guest takes the first entry left by renaming it to
NN-test_x.py.TAKER (rename is atomic on the host, where both guests'
9p servers run it), runs that file's tests, and renames the entry to
NN-test_x.py.TAKER.done. An entry left without .done names a file that no
guest ran to its end."""
import os
import sys

DONE = ".done"


def entries(qdir):
    """The queue's entries not taken yet, in their order."""
    return sorted(e for e in os.listdir(qdir) if e.endswith(".py"))


def take(qdir, taker):
    """Take the next entry: (its path now, test file name), or None when
    the queue is empty."""
    while True:
        left = entries(qdir)
        if not left:
            return None
        entry = left[0]
        taken = os.path.join(qdir, f"{entry}.{taker}")
        try:
            os.rename(os.path.join(qdir, entry), taken)
        except FileNotFoundError:
            continue            # another guest took it first
        return taken, entry.split("-", 1)[1]


def runtestloop(session):
    """pytest_runtestloop: the collected tests, file by file as the queue
    gives them; None (pytest's own loop) without a queue."""
    qdir = os.environ.get("SHP_QUEUE")
    if not qdir or session.config.option.collectonly:
        return None
    if session.testsfailed:
        raise session.Interrupted(
            f"{session.testsfailed} error(s) during collection")
    by_file = {}
    for item in session.items:
        by_file.setdefault(item.path.name, []).append(item)
    taker = os.environ.get("SHP_QUEUE_TAKER") or os.uname().nodename
    while (got := take(qdir, taker)) is not None:
        taken, name = got
        items = by_file.pop(name, None)
        if items is None:
            # not collected here: left taken, the host's check fails it
            print(f"file_queue: {taken}: not collected here", file=sys.stderr)
            continue
        for i, item in enumerate(items):
            # the file's last test tears down its module's fixtures
            nextitem = items[i + 1] if i + 1 < len(items) else None
            item.config.hook.pytest_runtest_protocol(item=item,
                                                     nextitem=nextitem)
            if session.shouldfail:
                raise session.Failed(session.shouldfail)
            if session.shouldstop:
                raise session.Interrupted(session.shouldstop)
        os.rename(taken, taken + DONE)
    return True
