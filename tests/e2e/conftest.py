# SPDX-License-Identifier: GPL-2.0
"""Fixtures for the end-to-end suite. It runs inside the test VM only
(tests/vm/run), as root, in network namespaces.

SIPHELPER_ALG=intree runs the NAT scenarios against the kernel's own
nf_conntrack_sip + nf_nat_sip instead of siphelper (tests/e2e/compare.sh);
tests marked `siphelper_only` (or using the `siphelper`/`ctl` fixtures) are
skipped then."""
import os
import subprocess

import pytest


def sh(cmd, check=True):
    """Run a shell command, return its CompletedProcess (text)."""
    r = subprocess.run(cmd, shell=True, text=True, capture_output=True)
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


@pytest.fixture(scope="session")
def module_path():
    path = os.environ["SIPHELPER_KO"]
    assert os.path.exists(path), path
    return path


@pytest.fixture
def siphelper(module_path):
    """siphelper loaded for one test, unloaded after it."""
    sh("modprobe -a nf_conntrack nf_nat nf_tables")
    sh(f"insmod {module_path}")
    yield module_path
    sh("rmmod siphelper")


def expectations():
    """`conntrack -L expect` in the router namespace."""
    return t.nsexec(t.ROUTER, "conntrack -L expect", check=False).stdout


def load(module_path, params=""):
    """NAT modules and the ALG with siphelper PARAMS (unload() after).
    With SIPHELPER_ALG=intree: nf_conntrack_sip + nf_nat_sip, assigned by
    an nft rule on the router; direct_media maps to the in-tree
    sip_direct_media, which has the opposite sense (1 = only the
    signalling peer)."""
    sh("modprobe -a nf_conntrack nf_nat nf_tables nft_chain_nat "
       "nft_masq nft_ct")
    if not INTREE:
        sh(f"insmod {module_path} {params}")
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
        sh("rmmod siphelper")
        return
    t.nsexec(t.ROUTER, "nft delete table inet shp_intree", check=False)
    sh("rmmod nf_nat_sip nf_conntrack_sip")


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
