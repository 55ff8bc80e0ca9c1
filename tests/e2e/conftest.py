# SPDX-License-Identifier: GPL-2.0
"""Fixtures for the end-to-end suite. It runs inside the test VM only
(tests/vm/run), as root, in network namespaces."""
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


def pytest_configure(config):
    if not os.environ.get("SIPHELPER_IN_VM"):
        pytest.exit("the e2e suite runs inside the test VM: "
                    "use tests/vm/run KERNEL -- tests/e2e/run", 2)


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
    """NAT modules and siphelper with PARAMS (unloaded by the caller)."""
    sh("modprobe -a nf_conntrack nf_nat nf_tables nft_chain_nat "
       "nft_masq nft_ct")
    sh(f"insmod {module_path} {params}")


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
    sh("rmmod siphelper")


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
