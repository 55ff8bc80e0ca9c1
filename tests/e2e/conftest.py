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
