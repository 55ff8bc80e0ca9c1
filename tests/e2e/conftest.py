# SPDX-License-Identifier: GPL-2.0
"""Fixtures for the end-to-end suite. It runs inside the test VM only
(tests/vm/run), as root, in network namespaces.

SIPHELPER_ALG=intree runs the NAT scenarios against the kernel's own
nf_conntrack_sip + nf_nat_sip instead of siphelper (tests/e2e/compare.sh);
tests marked `siphelper_only` (or using the `siphelper`/`ctl` fixtures) are
skipped then."""
import ctypes
import errno
import os
import subprocess
import sys
import time

import pytest

import file_queue

# tests/lib: uapi.py (the ABI read from uapi/linux/siphelper.h)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))


# Under TCG every exec costs ~150 ms (much more on the debug kernel), so a
# command without shell syntax runs without a shell, and a netns is entered
# with setns(2) around the fork instead of through `ip netns exec`.
_SHELL_SYNTAX = set("|&;<>()$`\\\"'*?[]#~{}\n")


def sh(cmd, check=True, ns=None):
    """Run a command line (in netns NS), return its CompletedProcess (text).
    """
    if _SHELL_SYNTAX & set(cmd) or "=" in cmd.split(" ", 1)[0]:
        args = ["/bin/sh", "-c", cmd]
    else:
        args = cmd.split()
    try:
        # the child is forked (vfork) by this thread: it starts in the
        # thread's netns
        with t.netns(ns):
            r = subprocess.run(args, text=True, capture_output=True)
    except FileNotFoundError as e:
        r = subprocess.CompletedProcess(args, 127, "", f"{e}\n")
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd!r} failed ({r.returncode}): "
                             f"{r.stdout}{r.stderr}")
    return r


# topology.py uses sh() from here, so it is imported after sh exists.
import topology as t  # noqa: E402


ALG = os.environ.get("SIPHELPER_ALG", "siphelper")
INTREE = ALG == "intree"
# conntrack's name for the helper in `conntrack -L expect`
HELPER = "sip" if INTREE else "siphelper"
# Auto-assignment of in-tree helpers by port is off in modern kernels: an
# nft ct helper object assigns nf_conntrack_sip to the SIP flows, the
# counterpart of siphelper's auto_assign (ports 5060, 5061).
INTREE_RULES = """
table inet shp_intree {
  ct helper sip-udp { type "sip" protocol udp; }
  ct helper sip-tcp { type "sip" protocol tcp; }
  chain pre { type filter hook prerouting priority 0;
    udp dport { 5060, 5061 } ct helper set "sip-udp";
    tcp dport { 5060, 5061 } ct helper set "sip-tcp"; }
}"""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "siphelper_only: siphelper's own behaviour or control "
        "plane; skipped with SIPHELPER_ALG=intree")
    if ALG not in ("siphelper", "intree"):
        pytest.exit(f"SIPHELPER_ALG={ALG!r}: use siphelper or intree", 2)
    if not os.environ.get("SIPHELPER_IN_VM"):
        pytest.exit("the e2e suite runs inside the test VM: "
                    "use tests/vm/run KERNEL -- tests/e2e/run", 2)


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="siphelper only (SIPHELPER_ALG=intree)")
    for item in items:
        if item.get_closest_marker("siphelper_only") or \
                {"siphelper", "ctl"} & set(item.fixturenames):
            item.add_marker(pytest.mark.siphelper_only)
            if INTREE:
                item.add_marker(skip)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    """With SHP_QUEUE, the test files come from a queue guests share."""
    return file_queue.runtestloop(session)


# Module loading without an exec each (modprobe/insmod/rmmod cost ~0.3 s
# under TCG, before the kernel does anything).
libc = t.libc  # one handle on libc (topology.py)
O_NONBLOCK = os.O_NONBLOCK


def modprobe(*names):
    """Load NAMES and their dependencies unless all are loaded already."""
    if not all(os.path.isdir(f"/sys/module/{n}") for n in names):
        sh("modprobe -a " + " ".join(names))


def insmod(path, params="", netns_router=True):
    """insmod PATH PARAMS: finit_module(2) on an uncompressed .ko.

    The suite's router is a network namespace, not the initial one where
    siphelper's default (auto_assign=init) turns auto-assign on: so
    siphelper is loaded with auto_assign=all, as on a host whose router
    is a netns, unless PARAMS name auto_assign or NETNS_ROUTER is False
    (test_assign.py tests the default)."""
    if netns_router and os.path.basename(path).startswith("siphelper.") \
            and "auto_assign=" not in params:
        params = f"{params} auto_assign=all".strip()
    if not path.endswith(".ko"):
        sh(f"insmod {path} {params}")
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.syscall(SYS_FINIT_MODULE, fd, params.encode(), 0):
            err = ctypes.get_errno()
            raise AssertionError(f"insmod {path} {params}: "
                                 f"{os.strerror(err)}")
    finally:
        os.close(fd)


def rmmod(*names, check=True, wait=10.0):
    """rmmod NAMES (in this order); returns the first errno or 0. A module
    still in use is tried again for WAIT seconds: a deleted netns drops
    its references (nft ct helper objects) from a workqueue, later."""
    for n in names:
        deadline = time.monotonic() + wait
        while libc.delete_module(n.encode(), O_NONBLOCK):
            err = ctypes.get_errno()
            if err in (errno.EAGAIN, errno.EBUSY) and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            if check:
                raise AssertionError(f"rmmod {n}: {os.strerror(err)}")
            return err
    return 0


SYS_FINIT_MODULE = 313      # x86_64: the VM's architecture


@pytest.fixture(scope="session")
def module_path():
    path = os.environ["SIPHELPER_KO"]
    assert os.path.exists(path), path
    return path


@pytest.fixture
def siphelper(module_path):
    """siphelper loaded for one test, unloaded after it."""
    modprobe("nf_conntrack", "nf_nat", "nf_tables")
    insmod(module_path)
    yield module_path
    rmmod("siphelper")


def expectations():
    """`conntrack -L expect` in the router namespace."""
    return t.nsexec(t.ROUTER, "conntrack -L expect", check=False).stdout


NAT_MODULES = ("nf_conntrack", "nf_nat", "nf_tables", "nft_chain_nat",
               "nft_masq", "nft_ct")
# What the topologies and the router profile's rulesets need besides.
SUITE_MODULES = NAT_MODULES + ("nf_conntrack_netlink", "nft_synproxy",
                               "veth")


@pytest.fixture(scope="session", autouse=True)
def suite_modules():
    """The suite's modules, loaded with one exec before the first test.
    Loaded on demand, each costs the kernel a usermode modprobe and nft a
    replayed transaction: on the debug kernel the first test's setup took
    26 s that way, against 3 s after this one's 6 s."""
    modprobe(*SUITE_MODULES)


def load(module_path, params=""):
    """NAT modules and the ALG with siphelper PARAMS (unload() after).
    With SIPHELPER_ALG=intree: nf_conntrack_sip + nf_nat_sip, assigned by
    an nft rule on the router; direct_media maps to the in-tree
    sip_direct_media, which has the opposite sense (1 = only the
    signalling peer)."""
    modprobe(*NAT_MODULES)
    if not INTREE:
        insmod(module_path, params)
        return
    opts = dict(p.split("=", 1) for p in params.split())
    unknown = set(opts) - {"direct_media"}
    assert not unknown, f"no in-tree equivalent for {unknown}: mark the " \
        "test siphelper_only"
    restrict = 1 if opts.get("direct_media", "1") == "0" else 0
    sh(f"modprobe nf_conntrack_sip sip_direct_media={restrict}")
    sh("modprobe nf_nat_sip")
    t.nft(t.ROUTER, INTREE_RULES)


def unload():
    """Undo load()."""
    if not INTREE:
        rmmod("siphelper")
        return
    t.nsexec(t.ROUTER, "nft delete table inet shp_intree", check=False)
    rmmod("nf_nat_sip", "nf_conntrack_sip")


@pytest.fixture(scope="module")
def net():
    """The phone - router - server namespaces, for one test module."""
    t.setup()
    yield
    t.teardown()


@pytest.fixture
def alg(net, module_path):
    """siphelper loaded with defaults, conntrack flushed around the test."""
    load(module_path)
    t.flush()
    yield
    t.flush()
    unload()


@pytest.fixture
def socks(net):
    """socks(ns, addr, port[, kind]): sockets closed after the test."""
    opened = []

    def make(ns, addr, port, kind=t.udp):
        s = kind(ns, addr, port)
        opened.append(s)
        return s
    yield make
    for s in opened:
        s.close()
