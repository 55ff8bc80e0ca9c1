# SPDX-License-Identifier: GPL-2.0
"""Read what bench/kernel/locks.sh kept (DIR/locks/): /proc/lock_stat per
configuration (acquisitions, contentions, cross-CPU bounces per lock
class), /proc/lockdep (classes and their irq/softirq usage bits) and the
packets each sender sent. Used by bench/write_doc.py ("Two CPUs")."""
import os
import re

CONFIGS = ("nat", "intree", "shp")
# class name: con-bounces contentions 4 x waittime acq-bounces acquisitions
# 4 x holdtime (kernel/locking/lockdep_proc.c, lock_stat version 0.4).
_STAT = re.compile(r"^\s*(\S.*?):\s+(\d+)\s+(\d+)(?:\s+[\d.]+){4}\s+(\d+)"
                   r"\s+(\d+)(?:\s+[\d.]+){4}\s*$")
# key [OPS:] FD: BD: usage: name (lockdep_proc.c l_show()).
_CLASS = re.compile(r"^[0-9a-f]+ (?:OPS:\s*\d+ )?FD:\s*\d+ BD:\s*\d+ "
                    r"([-+?.]{4}): (.*)$")


def lock_stat(path):
    """{class: (acquisitions, acq_bounces, contentions, con_bounces)};
    read and write sides of a rwlock (-R/-W) summed."""
    res = {}
    for line in open(path):
        m = _STAT.match(line)
        if not m:
            continue
        name = re.sub(r"-[RW]$", "", m.group(1).strip())
        v = (int(m.group(5)), int(m.group(4)), int(m.group(3)),
             int(m.group(2)))
        old = res.get(name, (0, 0, 0, 0))
        res[name] = tuple(a + b for a, b in zip(old, v))
    return res


def lockdep(path):
    """{class: usage} from /proc/lockdep; usage is 4 characters, hardirq,
    hardirq-read, softirq, softirq-read: '-' or '?' = used in that
    context."""
    res = {}
    for line in open(path):
        m = _CLASS.match(line)
        if m:
            res[m.group(2).strip()] = m.group(1)
    return res


def in_softirq(usage):
    return any(c in "-?" for c in usage)


def packets(d, cfg):
    n = 0
    for cpu in ("cpu0", "cpu1"):
        m = re.search(r"packets=(\d+)", open(f"{d}/{cfg}.{cpu}").read())
        n += int(m.group(1)) if m else 0
    return n


def own_lock_names(repo):
    """Lock class names siphelper's own locks would get from lockdep: the
    static ones by variable name, the initialised ones by expression."""
    names = set()
    kmod = os.path.join(repo, "kmod")
    for root, _, files in os.walk(kmod):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            src = open(os.path.join(root, f)).read()
            names.update(re.findall(
                r"DEFINE_(?:SPINLOCK|MUTEX|RWLOCK|SEQLOCK|RAW_SPINLOCK)"
                r"\((\w+)\)", src))
            names.update(re.findall(
                r"(?:spin_lock_init|mutex_init|rwlock_init|seqlock_init|"
                r"raw_spin_lock_init|init_rwsem)\(([^)]+)\)", src))
    return names


def load(d, repo):
    """Everything the doc needs, or None when DIR/locks is missing."""
    if not os.path.isdir(d):
        return None
    r = {"kernel": open(f"{d}/kernel").read().strip(),
         "packets": {c: packets(d, c) for c in CONFIGS},
         "lockdep": {c: lockdep(f"{d}/{c}.lockdep") for c in CONFIGS},
         "boot": lockdep(f"{d}/lockdep.boot"),
         "own": own_lock_names(repo)}
    r["stat"] = ({c: lock_stat(f"{d}/{c}.lock_stat") for c in CONFIGS}
                 if os.path.exists(f"{d}/shp.lock_stat") else None)
    return r
