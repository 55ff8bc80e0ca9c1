# SPDX-License-Identifier: GPL-2.0
"""Read what bench/kernel/locks.sh kept (DIR/locks/): per configuration
the ftrace histograms of every spinlock/rwlock acquisition (kprobe events
on the out-of-line lock functions) and the packets each sender sent. Used
by bench/write_doc.py ("Two CPUs")."""
import glob
import os
import re
from collections import Counter

CONFIGS = ("nat", "intree", "shp")
# The modules whose frames mark "taken while the SIP helper runs".
HELPER_MODS = {"nat": (), "intree": ("nf_conntrack_sip", "nf_nat_sip"),
               "shp": ("siphelper",)}
_ENTRY = re.compile(r"^\{(.*?)\}\s*hitcount:\s*(\d+)", re.S | re.M)
_LOCK = re.compile(r"lock:\s*\[([0-9a-f]+)\]\s*([^\s,]*)(?:\s*\[(\w+)\])?")
_FRAME = re.compile(r"^\s*([\w.]+)\+0x[0-9a-f]+/0x[0-9a-f]+(?:\s*\[(\w+)\])?",
                    re.M)


def _sections(text):
    """(kind, text) per histogram in a hist file: global (by lock and
    stack), cpu (by lock and CPU), object (by stack)."""
    parts = re.split(r"^# trigger info: ", text, flags=re.M)[1:]
    for p in parts:
        keys = re.match(r"hist:keys=([^:]*)", p).group(1)
        kind = ("global" if keys == "lock.sym,common_stacktrace" else
                "cpu" if keys == "lock.sym,common_cpu" else "object")
        yield kind, p


def _entries(text):
    """(lock symbol, lock module, cpu, frames, hits) per histogram entry;
    frames are (function, module) from the lock function outwards."""
    for m in _ENTRY.finditer(text):
        body, hits = m.group(1), int(m.group(2))
        lk = _LOCK.search(body)
        cpu = re.search(r"\bcpu:\s*(\d+)", body)
        frames = _FRAME.findall(body)
        yield (lk.group(2) or lk.group(1) if lk else None,
               lk.group(3) if lk and lk.group(3) else "",
               int(cpu.group(1)) if cpu else None, frames, hits)


_IRQ = ("asm_", "sysvec_", "__sysvec_", "common_interrupt", "irq_exit",
        "__irq_exit", "handle_softirqs", "do_softirq", "__do_softirq")


def _helper_on_stack(frames, mods):
    """A frame of the helper's module below the lock function, with no
    interrupt entry in between (an interrupt that arrived while the
    helper ran is not the helper's)."""
    for fn, mod in frames:
        if mod in mods:
            return True
        if fn.startswith(_IRQ):
            return False
    return False


def _caller(frames):
    """The first frame outside the lock functions and the tracer."""
    for fn, mod in frames:
        if not fn.startswith(("_raw_", "kprobe", "trace", "ftrace",
                              "__ftrace", "arch_ftrace")):
            return fn + (f" [{mod}]" if mod else "")
    return "?"


def packets(d, cfg):
    """SIP packets sent while counting: the senders print the measured
    rounds only; the counters also saw the first round."""
    n = 0
    rounds = int(open(f"{d}/rounds").read())
    for cpu in ("cpu0", "cpu1"):
        m = re.search(r"packets=(\d+)", open(f"{d}/{cfg}.{cpu}").read())
        n += int(m.group(1)) if m else 0
    return n * (rounds + 1) // rounds


def load(d):
    """Everything the doc needs, or None when DIR has no lock run."""
    if not os.path.exists(f"{d}/shp.cpu0"):
        return None
    r = {"kernel": open(f"{d}/kernel").read().strip(),
         "cpus": open(f"{d}/cpus").read().strip(),
         "packets": {c: packets(d, c) for c in CONFIGS},
         # (lock, module) -> hits; and the same with the helper on stack
         "global": {}, "global_helper": {}, "global_cpu": {},
         # caller of a lock inside an object -> hits, helper on stack
         "object_helper": {}, "object": {}}
    for c in CONFIGS:
        g, gh, gc, o, oh = Counter(), Counter(), Counter(), Counter(), Counter()
        mods = HELPER_MODS[c]
        # One file per lock function; each holds all three histograms.
        for f in glob.glob(f"{d}/{c}/hist.0.*"):
            for kind, path_text in _sections(open(f).read()):
                for lock, mod, cpu, frames, hits in _entries(path_text):
                    helper = _helper_on_stack(frames, mods)
                    if kind == "global":
                        g[(lock, mod)] += hits
                        if helper:
                            gh[(lock, mod, _caller(frames))] += hits
                    elif kind == "cpu":
                        gc[(lock, mod, cpu)] += hits
                    else:
                        o[_caller(frames)] += hits
                        if helper:
                            oh[_caller(frames)] += hits
        r["global"][c], r["global_helper"][c] = g, gh
        r["global_cpu"][c] = gc
        r["object"][c], r["object_helper"][c] = o, oh
    return r


# key [OPS:] FD: BD: usage: name (kernel/locking/lockdep_proc.c l_show()).
_CLASS = re.compile(r"^[0-9a-f]+ (?:OPS:\s*\d+ )?FD:\s*\d+ BD:\s*\d+ "
                    r"([-+?.]{4}): (.*)$")


def _lockdep(path):
    """{class: usage}; usage is hardirq, hardirq-read, softirq,
    softirq-read: '-' or '?' = acquired in that context."""
    return {m.group(2).strip(): m.group(1)
            for m in map(_CLASS.match, open(path)) if m}


def own_lock_names(repo):
    """The lock class names siphelper's own locks get from lockdep: static
    ones by variable name, initialised ones by expression."""
    names = set()
    for f in glob.glob(os.path.join(repo, "kmod", "*.c")):
        src = open(f).read()
        names.update(re.findall(r"DEFINE_(?:SPINLOCK|MUTEX|RWLOCK)\((\w+)\)",
                                src))
        names.update(re.findall(r"(?:spin_lock_init|mutex_init|rwlock_init)"
                                r"\(([^)]+)\)", src))
    return names


def load_lockdep(d, repo):
    """The debug kernel's view (run.sh LOCKDEP=1), or None: siphelper's
    own lock classes with their usage (None: never acquired) and the
    classes first seen in the siphelper configuration."""
    if not os.path.exists(f"{d}/shp.lockdep"):
        return None
    intree, shp = _lockdep(f"{d}/intree.lockdep"), _lockdep(f"{d}/shp.lockdep")
    return {"kernel": open(f"{d}/kernel").read().strip(),
            "own": {n: shp.get(n) for n in sorted(own_lock_names(repo))},
            "new": {n: u for n, u in shp.items() if n not in intree},
            "irq": lambda u: any(c in "-?" for c in u)}
