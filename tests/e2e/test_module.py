# SPDX-License-Identifier: GPL-2.0
"""The module loads, registers its conntrack helpers, coexists with the
in-tree SIP helper and unloads cleanly."""
import json
import os
import shutil

import pytest

from conftest import NAT_MODULES, insmod, modprobe, rmmod, sh
from ctl import ctl  # noqa: F401  (fixture)

# siphelper's own module life cycle: skipped with SIPHELPER_ALG=intree
pytestmark = pytest.mark.siphelper_only


def helper_object(proto):
    """Create an nft ct helper object of type siphelper: the kernel accepts
    it only when a helper of that name is registered for proto."""
    return sh("nft add table inet shp_t && "
              f"nft add ct helper inet shp_t h '{{ type \"siphelper\" "
              f"protocol {proto}; }}'", check=False)


def test_load_registers_helpers(siphelper):
    assert "siphelper" in sh("lsmod").stdout
    for proto in ("udp", "tcp"):
        r = helper_object(proto)
        assert r.returncode == 0, r.stderr
        out = sh("nft list table inet shp_t").stdout
        assert 'type "siphelper" protocol ' + proto in out
        sh("nft delete table inet shp_t")


def test_defaults_are_the_seed_contract(siphelper):
    p = "/sys/module/siphelper/parameters/"
    assert open(p + "ports").read().strip() == "5060,5061"
    assert open(p + "sip_timeout").read().strip() == "3600"
    assert open(p + "direct_media").read().strip() == "Y"


def test_unload_unregisters(module_path):
    modprobe("nf_conntrack", "nf_nat", "nf_tables")
    insmod(module_path)
    rmmod("siphelper")
    r = helper_object("udp")
    sh("nft delete table inet shp_t", check=False)
    assert r.returncode != 0, "helper still registered after rmmod"


def test_side_by_side_with_in_tree_sip(siphelper):
    modprobe("nf_conntrack_sip")
    modprobe("nf_nat_sip")
    mods = sh("lsmod").stdout
    assert "nf_conntrack_sip" in mods and "siphelper" in mods
    r = helper_object("udp")
    assert r.returncode == 0, r.stderr
    sh("nft add ct helper inet shp_t sip '{ type \"sip\" protocol udp; }'")
    sh("nft delete table inet shp_t")
    rmmod("nf_nat_sip", "nf_conntrack_sip")


def test_bad_module_parameter_refused(module_path):
    modprobe("nf_conntrack", "nf_nat", "nf_tables")
    for bad in ("ports=0", "ports=70000", "ports=6000-5000", "sip_timeout=0",
                "sip_timeout=86401", "ports=5060/sctp"):
        r = sh(f"insmod {module_path} {bad}", check=False)
        assert r.returncode != 0, f"{bad} was accepted"
        assert "siphelper" not in sh("lsmod").stdout
    assert "invalid module parameters" in sh("dmesg").stdout


def test_reload_cycles(module_path):
    modprobe("nf_conntrack", "nf_nat", "nf_tables")
    for _ in range(5):
        insmod(module_path)
        rmmod("siphelper")


def test_family_lookup_loads_installed_module(module_path, ctl, tmp_path):
    """MODULE_ALIAS_GENL_FAMILY: with the module installed and not loaded,
    the first siphelperctl command loads it through the genl family lookup.

    "Installed" is a module tree holding siphelper alone, bind-mounted over
    /lib/modules/RELEASE for the test: depmod over a stock kernel's 4 000
    modules on 9p took ~60 s a run, this one takes well under a second.
    The kernel's modprobe finds siphelper's dependencies already loaded."""
    rmmod("siphelper", check=False)
    modprobe(*NAT_MODULES)
    rel = os.uname().release
    suffix = module_path[module_path.index(".ko"):]
    tree = tmp_path / "lib" / "modules" / rel
    os.makedirs(tree / "extra")
    shutil.copy(module_path, tree / "extra" / f"siphelper{suffix}")
    sh(f"depmod -b {tmp_path} {rel}")
    assert "siphelper" in (tree / "modules.alias").read_text()
    sh(f"mount --bind {tree} /lib/modules/{rel}")
    try:
        assert not os.path.exists("/sys/module/siphelper")
        r = ctl.run("-j")           # no command: show
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["sip_timeout"] == 3600
        assert os.path.exists("/sys/module/siphelper")
    finally:
        sh(f"umount /lib/modules/{rel}")
        rmmod("siphelper", check=False)
