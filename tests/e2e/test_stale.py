# SPDX-License-Identifier: GPL-2.0
"""Stale SIP entries heal themselves (docs/datapath.md "Stale flows").

A phone's keepalives keep its conntrack alive for ever, so an entry that
stopped fitting the router (made during an outage or before the NAT rules
were loaded, or NATed to an address the router no longer has or no
longer routes by) would keep the phone unreachable until an admin flushed
it. Each scenario runs a phone that REGISTERs and sends keepalives
(keepalive_ua.py) through the router, changes the router as an outage,
an ISP or an admin would, and checks that the registrar sees the phone's
new public address in Via and Contact and can call it, within the
scenario's bound; the entry of a healthy phone must stay.

Every scenario also runs without siphelper (plain masquerade, `none`),
where it must fail: the phone's Contact is private there. Timers are
short here; STALE_TIMERS=full (make stress) runs the lengths of the
field: REGISTER every 60 s, keepalive every 20 s, a 5 min outage, a
10 min healthy run."""
import json
import os
import subprocess
import tempfile
import time

import pytest

import topology as t
import uapi
from conftest import INTREE, NAT_MODULES, load, modprobe, unload
from ctl import Genl, u8, u32
from keepalive_ua import Phone, Registrar
from stats import stats

SHORT = dict(register=3, keepalive=1, unreplied=2, outage=3, recover=5,
             healthy=8)
FULL = dict(register=60, keepalive=20, unreplied=30, outage=300, recover=70,
            healthy=600)
T = FULL if os.environ.get("STALE_TIMERS") == "full" else SHORT

NEW_IP = "203.0.113.7"          # the WAN address after the change
ISP2_IP = "203.0.113.1"         # the server's side of it
FAR_IP = "198.51.100.1"         # a registrar behind both ISPs
# a stateful firewall: the LAN may open flows, the WAN only answer them
FIREWALL = """
table inet shp_fw {
  chain forward_filter { type filter hook forward priority 0; policy drop;
    ct state established,related accept; iifname "lan0" accept; }
}"""


def configure(attrs):
    """Set siphelper's config attributes ATTRS in the router."""
    with t.netns(t.ROUTER):
        g = Genl()
    try:
        err, ext = g.set(attrs)
        assert err == 0, ext
    finally:
        g.s.close()


def cases(name, variants, control):
    """Parameters (router, NAME): each variant with siphelper, and the
    CONTROL variant once more without it."""
    return pytest.mark.parametrize(
        ("router", name),
        [pytest.param("siphelper", v, id=f"siphelper-{v}") for v in variants]
        + [pytest.param("none", control, id=f"none-{control}")],
        indirect=["router"])


@pytest.fixture(params=["siphelper", "none"])
def router(request, module_path):
    """The SEED.md topology, fresh for each scenario (they change
    addresses, routes and rules), with the ALG loaded or not (`none`: the
    control run); yields whether it is."""
    on = request.param == "siphelper"
    if not on and INTREE:
        pytest.skip("the control run is the same for both helpers")
    t.setup()
    modprobe(*NAT_MODULES)
    if on:
        load(module_path)
        if not INTREE:
            configure(u32(uapi.SIPHELPER_A_SIP_UNREPLIED_TIMEOUT,
                          T["unreplied"]))
    try:
        yield on
    finally:
        t.teardown()
        if on:
            unload()


def started(*peers):
    return [p.start() for p in peers]


def recovered(registrar, phone, since, public_ip, bound=None):
    """The registrar has the phone's binding at PUBLIC_IP, got after SINCE
    and within BOUND seconds of it (the scenario's recovery bound), and
    its call reaches the phone."""
    bound = T["recover"] if bound is None else bound
    left = max(since + bound - time.monotonic(), 0)
    return t.until(lambda: registrar.seen(since, public_ip), left) and \
        registrar.call(phone)


def registered(registrar, phone, on, public_ip=t.PUBLIC_IP):
    """The phone's first registration (the control run cannot have one:
    the registrar sees its private Contact)."""
    if on:
        assert recovered(registrar, phone, time.monotonic() - 1, public_ip)
    else:
        time.sleep(1)


def check(on, ok, what):
    """Scenarios must pass with siphelper and fail without it."""
    if on:
        assert ok, what
    else:
        assert not ok, f"{what}: passed without siphelper"


def stale_counts():
    s = stats()
    return {k: s[k] for k in ("stale_nat_address", "stale_unreplied")}


def nat(rules):
    """The router's IPv4 NAT: RULES in its postrouting chain."""
    t.nsexec(t.ROUTER, "nft flush chain ip shp_nat post")
    for r in rules:
        t.nsexec(t.ROUTER, f"nft add rule ip shp_nat post {r}")


def ct_ids(sport=5010):
    """Ids of the router's conntracks of the phone's UDP SIP flow."""
    out = t.nsexec(t.ROUTER, f"conntrack -L -p udp --sport {sport} -o id",
                   check=False).stdout
    return [w.split("=", 1)[1] for ln in out.splitlines()
            for w in ln.split() if w.startswith("id=")]


@pytest.fixture
def second_isp(router):
    """The server's address on the same wire for the WAN address of
    after the change (an ISP renumbering its customer)."""
    t.ip_batch([f"addr add {ISP2_IP}/24 dev eth0"], t.SERVER)
    return router


@cases("kind", ["carrier", "address"], "address")
def test_s1_outage(router, kind):
    """The WAN link goes down (its carrier, or its carrier and address)
    while the phone keeps sending, and comes back with the same address."""
    on = router
    reg, phone = started(Registrar(), Phone(T["register"], T["keepalive"]))
    try:
        registered(reg, phone, on)
        t.ip_batch(["link set eth0 down"], t.SERVER)
        if kind == "address":
            t.ip_batch([f"addr del {t.PUBLIC_IP}/24 dev wan0"], t.ROUTER)
        time.sleep(T["outage"])
        if kind == "address":
            t.ip_batch([f"addr add {t.PUBLIC_IP}/24 dev wan0"], t.ROUTER)
        t.ip_batch(["link set eth0 up"], t.SERVER)
        back = time.monotonic()
        check(on, recovered(reg, phone, back, t.PUBLIC_IP),
              f"registered and called within {T['recover']} s of the link "
              "coming back")
    finally:
        phone.stop()
        reg.stop()


@cases("how", ["masquerade", "snat", "snat-nft-helper"], "snat")
def test_s2_address_change(second_isp, module_path, how):
    """The WAN address changes (212.19.6.166 -> 203.0.113.7): masquerade
    follows by itself; with a static snat rule the admin updates the rule.
    With the OPTIONS keepalive the registrar must see the new address in
    Via and Contact within about one keepalive interval (the keepalive
    that finds the entry stale is dropped, its retransmission 0.5 s later
    makes the new one), and a call must reach the phone after its next
    REGISTER."""
    on = second_isp
    if how == "snat-nft-helper":
        if INTREE:
            pytest.skip("siphelper's own assignment setting")
        # the admin's nft rule gives the helper, not auto-assignment
        configure(u8(uapi.SIPHELPER_A_AUTO_ASSIGN, 0))
        t.nft(t.ROUTER, t.NFT_HELPER)
    old_rule = "oifname wan0 masquerade" if how == "masquerade" else \
        f"oifname wan0 snat to {t.PUBLIC_IP}"
    nat([old_rule])
    reg = Registrar().start()
    phone = Phone(T["register"], T["keepalive"], options=True).start()
    mon = Monitor() if on and not INTREE and \
        os.environ.get("SIPHELPERCTL") else None
    try:
        registered(reg, phone, on)
        before = stale_counts() if on else None
        # the rule first: an entry made between the two steps would be
        # NATed to an address the router no longer has (healed too, as
        # unreplied, but the counts here are exact)
        if how != "masquerade":
            nat([f"oifname wan0 snat to {NEW_IP}"])
        t.ip_batch([f"addr del {t.PUBLIC_IP}/24 dev wan0",
                    f"addr add {NEW_IP}/24 dev wan0",
                    f"route add default via {ISP2_IP}"], t.ROUTER)
        changed = time.monotonic()
        seen = t.until(lambda: reg.seen(changed, NEW_IP,
                                        ("OPTIONS", "REGISTER")),
                       T["keepalive"] + 2 * 0.5 + 1)
        check(on, seen, "new address in Via and Contact within one "
              "keepalive interval")
        check(on, recovered(reg, phone, changed, NEW_IP,
                            T["register"] + T["keepalive"] + 1),
              "registered at the new address and called")
        if on and not INTREE:
            after = stale_counts()
            want = after["stale_nat_address"] - before["stale_nat_address"]
            if how == "masquerade":
                # the kernel's own cleanup removes the entry, from a
                # work item: in a loaded guest the next keepalive can
                # reach siphelper first, which then finds it stale
                assert want in (0, 1), (before, after)
            else:
                assert want == 1, (before, after)
            assert after == {**before, "stale_nat_address":
                             before["stale_nat_address"] + want}
            if want and mon:
                ev = mon.stop("stale")
                assert len(ev) == 1, ev
                assert ev[0]["reason"] == "nat-address"
                assert ev[0]["flow"]["src"] == t.PHONE_IP
                assert ev[0]["flow"]["sport"] == 5010
    finally:
        if mon:
            mon.stop()
        phone.stop()
        reg.stop()


def test_s3_rules_loaded_late(router):
    """The phone's first REGISTER crosses a router whose stateful
    firewall is up but whose NAT table is not there yet; the registrar
    cannot answer a private source. Then the table is loaded."""
    on = router
    t.nsexec(t.ROUTER, "nft delete table ip shp_nat")
    t.nft(t.ROUTER, FIREWALL)
    reg = Registrar().start()
    phone = Phone(T["register"], T["keepalive"]).start()
    try:
        assert t.until(lambda: any(r[2][0] == t.PHONE_IP
                                   for r in reg.requests), 5), \
            "the private REGISTER did not reach the registrar"
        time.sleep(T["keepalive"])
        t.nft(t.ROUTER, """
table ip shp_nat {
  chain post { type nat hook postrouting priority 100;
    oifname "wan0" masquerade; }
}""")
        loaded = time.monotonic()
        check(on, recovered(reg, phone, loaded, t.PUBLIC_IP,
                            T["unreplied"] + 2 * T["keepalive"] + 2),
              "registered after the NAT table was loaded")
        if on and not INTREE:
            # Each entry made before the table was there is removed once
            # it is unreplied for long: the one the table found, and any
            # that aged out before it came (in a loaded debug guest the
            # nft load alone can take that long). The entry made after
            # it has its answers and stays.
            first = min(when for when, _, src, _, _ in reg.requests
                        if src[0] == t.PHONE_IP)
            removed = stale_counts()["stale_unreplied"]
            most = 1 + (loaded - first + .5) / T["unreplied"]
            assert 1 <= removed <= most, (removed, loaded - first)
            time.sleep(T["unreplied"] + 2 * T["keepalive"])
            assert stale_counts()["stale_unreplied"] == removed
            assert reg.call(phone), "the phone unreachable later"
    finally:
        phone.stop()
        reg.stop()


@pytest.fixture
def two_isps(router):
    """A second WAN link (wan1 203.0.113.7 -- server eth1 203.0.113.1) and
    the registrar behind both (198.51.100.1 on the server); the default
    route on wan0."""
    t.ip_batch([f"link add wan1 netns {t.ROUTER} type veth peer eth1 "
                f"netns {t.SERVER}"])
    t.ip_batch([f"addr add {ISP2_IP}/24 dev eth1", "link set eth1 up",
                f"addr add {FAR_IP}/32 dev lo"], t.SERVER)
    t.ip_batch([f"addr add {NEW_IP}/24 dev wan1", "link set wan1 up",
                f"route add default via {t.SERVER_IP}"], t.ROUTER)
    return router


@cases("how", ["masquerade", "snat"], "snat")
def test_s4_failover(two_isps, how):
    """Two WAN links with their own addresses; the default route moves to
    the backup and later back: the registration follows each move."""
    on = two_isps
    if how == "masquerade":
        nat(['oifname { "wan0", "wan1" } masquerade'])
    else:
        nat([f"oifname wan0 snat to {t.PUBLIC_IP}",
             f"oifname wan1 snat to {NEW_IP}"])
    reg = Registrar(FAR_IP).start()
    phone = Phone(T["register"], T["keepalive"],
                  registrar=(FAR_IP, 5060)).start()
    try:
        registered(reg, phone, on)
        before = stale_counts() if on else None
        for gw, ip in ((ISP2_IP, NEW_IP), (t.SERVER_IP, t.PUBLIC_IP)):
            t.ip_batch([f"route replace default via {gw}"], t.ROUTER)
            moved = time.monotonic()
            check(on, recovered(reg, phone, moved, ip,
                                T["register"] + T["keepalive"] + 1),
                  f"registration followed the route to {ip}")
        if on and not INTREE:
            # masquerade: the kernel kills an entry whose device changed
            want = 0 if how == "masquerade" else 2
            assert stale_counts()["stale_nat_address"] == \
                before["stale_nat_address"] + want
    finally:
        phone.stop()
        reg.stop()


@cases("setup", ["nat", "firewall"], "nat")
def test_healthy_flow_keeps_its_entry(router, setup):
    """A registered phone whose registrar answers keeps its one entry
    (same conntrack id) through REGISTERs and keepalives; a router that
    only firewalls (no NAT) never removes one either."""
    on = router
    nat_on = setup == "nat"
    if not nat_on:
        t.nsexec(t.ROUTER, "nft delete table ip shp_nat")
        t.nft(t.ROUTER, FIREWALL)
        t.ip_batch([f"route add 192.168.0.0/24 via {t.PUBLIC_IP}"],
                   t.SERVER)
    public = t.PUBLIC_IP if nat_on else t.PHONE_IP
    reg = Registrar().start()
    phone = Phone(T["register"], T["keepalive"]).start()
    try:
        ok = recovered(reg, phone, time.monotonic() - 1, public)
        check(on, ok, "registered")
        if not on:
            return
        ids = ct_ids()
        assert len(ids) == 1, ids
        time.sleep(T["healthy"])
        assert ct_ids() == ids
        assert reg.seen(time.monotonic() - T["register"] - 1, public)
        if not INTREE:
            assert stale_counts() == {"stale_nat_address": 0,
                                      "stale_unreplied": 0}
    finally:
        phone.stop()
        reg.stop()


class Monitor:
    """siphelperctl -j monitor in the router, into a file."""

    def __init__(self):
        self.out = tempfile.TemporaryFile()
        self.p = subprocess.Popen(
            [os.environ["SIPHELPERCTL"], "-n", t.ROUTER, "-j", "monitor"],
            stdout=self.out, stderr=subprocess.STDOUT)
        time.sleep(0.5)     # it joins the group a moment after it starts

    def stop(self, kind=None):
        """Ends it; returns its events of KIND (JSON objects)."""
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(timeout=10)
        self.out.seek(0)
        return [e for e in (json.loads(ln) for ln in self.out
                            if ln.startswith(b"{"))
                if e.get("event") == kind]
