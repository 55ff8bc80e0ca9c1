# SPDX-License-Identifier: GPL-2.0
"""The auto-assign hooks follow auto_assign: a netns has them only while
auto_assign is on there (kmod/assign.c). New flows to a SIP port get the
helper, and `auto_assigned` counts them, exactly while it is on; the
netns' hooks (`nft list hooks`, where the kernel has nfnetlink_hook)
appear and go with it; netns deletion and rmmod are clean with the hooks
on or off, also after concurrent changes."""
import json
import os
import subprocess

import pytest

import topology as t
from conftest import insmod, rmmod, sh
from ctl import ctl, json_stats  # noqa: F401  (fixture)
from sipmsg import public_form, register

# Conntrack in use in a netns without NAT: an nft rule that needs it.
CT_RULES = """table inet shp_ct {
    chain out { type filter hook output priority 0; ct state new counter; }
}
"""
# Each flip is two processes over 9p: far slower on the debug kernel.
FLIPS = 4 if "debug" in os.uname().release else 15


def send(ns):
    t.send_udp(ns, [5060])


def test_new_flows_follow_auto_assign(alg, ctl, socks):
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    msg = register()

    def exchange():
        phone.sendto(msg, (t.SERVER_IP, 5060))
        got, _ = server.recvfrom(65535)
        return got

    ctl.ok("set", "auto-assign", "no", netns=t.ROUTER)
    assert exchange() == msg            # NATed, payload untouched
    assert t.helper_of(5060) == ""
    assert json_stats(ctl)["auto_assigned"] == 0

    # on again: the very next new flow is assigned
    ctl.ok("set", "auto-assign", "yes", netns=t.ROUTER)
    t.flush()
    assert exchange() == public_form(msg)
    assert t.helper_of(5060) == "siphelper"
    assert json_stats(ctl)["auto_assigned"] == 1

    # off: a flow that has the helper keeps it, new flows get none
    ctl.ok("set", "auto-assign", "no", netns=t.ROUTER)
    assert exchange() == public_form(msg)
    t.flush()
    assert exchange() == msg
    assert t.helper_of(5060) == ""
    assert json_stats(ctl)["auto_assigned"] == 1


def nft_hooks_available():
    """Does `nft list hooks` work here? The router's conntrack+NAT hooks
    are always there to be listed."""
    sh("modprobe nfnetlink_hook", check=False)
    return "nf_nat" in t.nsexec(t.ROUTER, "nft list hooks ip",
                                check=False).stdout


def assign_hooks(ns):
    """How many of siphelper's hooks `nft list hooks` shows in NS, per
    family."""
    return {fam: t.nsexec(ns, f"nft list hooks {fam}", check=False)
            .stdout.count("shp_assign_hook")
            for fam in ("ip", "ip6")}


def test_hooks_registered_only_while_on(alg, ctl):
    if not nft_hooks_available():
        pytest.skip("kernel without nfnetlink_hook (nft list hooks)")
    on = {"ip": 2, "ip6": 2}            # POSTROUTING + INPUT each
    off = {"ip": 0, "ip6": 0}
    assert assign_hooks(t.ROUTER) == on
    ctl.ok("set", "auto-assign", "no", netns=t.ROUTER)
    assert assign_hooks(t.ROUTER) == off
    assert assign_hooks(t.PHONE) == on  # other netns keep theirs
    ctl.ok("set", "sip-timeout", "60", netns=t.ROUTER)
    assert assign_hooks(t.ROUTER) == off
    ctl.ok("set", "auto-assign", "yes", netns=t.ROUTER)
    assert assign_hooks(t.ROUTER) == on
    ctl.ok("set", "auto-assign", "yes", netns=t.ROUTER)
    assert assign_hooks(t.ROUTER) == on


WHERE = {   # auto_assign=...: sysfs shows, on in the initial netns, in others
    None: ("init", True, False),        # the default
    "init": ("init", True, False),
    "all": ("all", True, True),
    "Y": ("all", True, True),           # what this bool parameter took
    "none": ("none", False, False),
    "0": ("none", False, False),
}


def test_default_is_the_initial_netns_only(net, module_path, ctl):
    """auto_assign=init, the default: the initial netns starts with
    auto-assign and its hooks, every other netns (made before or after
    the load) with neither, so that its traffic keeps netfilter's
    empty-hook fast path (docs/performance.md, "Non-SIP UDP")."""
    hooks = nft_hooks_available()
    rmmod("siphelper", check=False)
    for value, (shown, init_on, netns_on) in WHERE.items():
        insmod(module_path, f"auto_assign={value}" if value else "",
               netns_router=False)
        try:
            param = "/sys/module/siphelper/parameters/auto_assign"
            assert open(param).read() == shown + "\n", value
            assert ctl.config()["auto_assign"] is init_on, value
            assert ctl.config(netns=t.ROUTER)["auto_assign"] is netns_on
            sh("ip netns add shp_late")
            try:
                assert ctl.config(netns="shp_late")["auto_assign"] is \
                    netns_on, value
            finally:
                sh("ip netns del shp_late")
            if hooks:
                n = 2 if netns_on else 0    # POSTROUTING + INPUT
                assert assign_hooks(t.ROUTER) == {"ip": n, "ip6": n}
                n = 2 if init_on else 0
                assert sh("nft list hooks ip").stdout.count(
                    "shp_assign_hook") == n, value
        finally:
            rmmod("siphelper")
    with pytest.raises(AssertionError, match="Invalid argument"):
        insmod(module_path, "auto_assign=sometimes")


@pytest.fixture
def three_netns():
    names = ["shp_on", "shp_off", "shp_flip"]
    for n in names:
        sh(f"ip netns add {n}")
        sh(f"ip -n {n} link set lo up")
        sh(f"ip netns exec {n} nft -f - <<'EOF'\n{CT_RULES}EOF")
    yield names
    for n in names:
        sh(f"ip netns del {n}", check=False)


def assigned(ctl, ns):
    return json.loads(ctl.ok("-j", "stats", netns=ns))["auto_assigned"]


def test_netns_and_rmmod_with_hooks_on_and_off(siphelper, ctl, three_netns):
    on, off, flip = three_netns
    ctl.ok("set", "auto-assign", "no", netns=off)
    for ns in three_netns:
        send(ns)
    assert [assigned(ctl, ns) for ns in three_netns] == [1, 0, 1]

    # concurrent writers in one netns: hooks and config end in step
    loop = (f"for i in $(seq {FLIPS}); do {ctl.path} -n {flip} set "
            f"auto-assign no && {ctl.path} -n {flip} set "
            "auto-assign yes || exit 1; done")
    procs = [subprocess.Popen(loop, shell=True) for _ in range(3)]
    assert [p.wait(timeout=600) for p in procs] == [0, 0, 0]
    assert ctl.config(netns=flip)["auto_assign"] is True
    send(flip)
    assert assigned(ctl, flip) == 2
    ctl.ok("set", "auto-assign", "no", netns=flip)
    send(flip)
    assert assigned(ctl, flip) == 2

    # netns deletion with the hooks off, then on (a conntrack holding
    # the helper in it), then rmmod with them on in one netns and off in
    # another
    sh(f"ip netns del {off}")
    sh(f"ip netns del {on}")
    rmmod("siphelper")
    insmod(siphelper)
    assert ctl.config(netns=flip)["auto_assign"] is True   # defaults
    send(flip)
    assert assigned(ctl, flip) == 1
    ctl.ok("set", "auto-assign", "no", netns=flip)
    sh(f"ip netns del {flip}")
