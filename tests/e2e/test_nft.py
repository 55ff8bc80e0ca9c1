# SPDX-License-Identifier: GPL-2.0
"""nft mode, the config file and port changes, through siphelperctl in the
router namespace: `nft install` builds table inet siphelper (ct helper
objects, chains, one rule per port entry) and new SIP flows get the helper
from those rules with auto-assign off; `nft remove` undoes it; `apply -f`
replays a config file all or nothing; `set ports` takes effect at once for
new flows while a call in progress keeps its helper."""
import json
import os
import re

import pytest

import topology as t
from ctl import DEFAULT_CONFIG, ctl, json_stats  # noqa: F401  (fixture)
from sipmsg import bye, invite, invite6, public_form, register

NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups"
EXAMPLE_CONF = os.path.join(os.path.dirname(__file__), "..", "..", "etc",
                            "siphelper.conf")


def nft_ruleset():
    return t.nsexec(t.ROUTER, "nft list ruleset").stdout


def table_gone():
    return "table inet siphelper" not in nft_ruleset()


@pytest.fixture
def nft_cleanup(alg):
    """The table holds a reference on the module: delete it before the
    alg fixture unloads siphelper, whatever the test did."""
    yield
    t.nsexec(t.ROUTER, "nft delete table inet siphelper", check=False)


def test_nft_install_assigns_and_remove_restores(alg, nft_cleanup, ctl,
                                                 socks):
    out = ctl.ok("nft", "install", netns=t.ROUTER)
    assert "installed table inet siphelper for ports 5060,5061" in out
    rs = nft_ruleset()
    assert "table inet siphelper {" in rs, rs
    for proto in ("udp", "tcp"):
        assert re.search(r'ct helper sip-%s \{\s+type "siphelper" protocol '
                         r'%s\s+l3proto inet' % (proto, proto), rs), rs
        for port in (5060, 5061):
            rule = f'{proto} dport {port} ct helper set "sip-{proto}"'
            assert rs.count(rule) == 2, (rule, rs)   # prerouting + output
    assert "type filter hook prerouting priority filter; policy accept;" \
        in rs, rs
    assert "type filter hook output priority filter; policy accept;" in rs
    assert ctl.config(netns=t.ROUTER)["auto_assign"] is False

    shown = json.loads(ctl.ok("-j", "nft", "show", netns=t.ROUTER))
    assert shown == {"installed": True, "table": "inet siphelper",
                     "ports": [{"lo": 5060, "hi": 5060,
                                "protocols": ["udp", "tcp"]},
                               {"lo": 5061, "hi": 5061,
                                "protocols": ["udp", "tcp"]}],
                     "rules": 8, "foreign_rules": 0, "in_sync": True,
                     "auto_assign": False}
    text = ctl.ok("nft", "show", netns=t.ROUTER)
    assert text == ("table inet siphelper: installed\n"
                    "nft ports: 5060,5061\nrules: 8\nauto-assign: no\n")

    # a new SIP flow gets the helper from the rule, not from auto-assign
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    msg = register()
    phone.sendto(msg, (t.SERVER_IP, 5060))
    got, _ = server.recvfrom(65535)
    assert got == public_form(msg)
    assert t.helper_of(5060) == "siphelper"
    # the inet table and its l3proto inet helpers cover IPv6 as well
    phone6 = socks(t.PHONE, t.PHONE6, 5010)
    server6 = socks(t.SERVER, t.SERVER6, 5060)
    phone6.sendto(invite6(t.PHONE6), (t.SERVER6, 5060))
    got, _ = server6.recvfrom(65535)
    assert got == invite6(t.PUBLIC6)
    assert json_stats(ctl)["auto_assigned"] == 0

    out = ctl.ok("nft", "remove", netns=t.ROUTER)
    assert out == "removed table inet siphelper; auto-assign on\n"
    assert table_gone(), nft_ruleset()
    assert ctl.config(netns=t.ROUTER)["auto_assign"] is True
    assert json.loads(ctl.ok("-j", "nft", "show", netns=t.ROUTER)) == {
        "installed": False, "table": "inet siphelper", "ports": [],
        "rules": 0, "foreign_rules": 0, "in_sync": False,
        "auto_assign": True}
    # removing twice is harmless and says so
    out = ctl.ok("nft", "remove", netns=t.ROUTER)
    assert out == "table inet siphelper was not installed; auto-assign on\n"

    # back to auto-assign: a new flow is assigned by the module
    t.flush()
    phone.sendto(msg, (t.SERVER_IP, 5060))
    got, _ = server.recvfrom(65535)
    assert got == public_form(msg)
    assert json_stats(ctl)["auto_assigned"] == 1


def test_nft_follows_port_change(alg, nft_cleanup, ctl, socks):
    ctl.ok("nft", "install", netns=t.ROUTER)
    # a port change replaces the table's rules in the same command
    out = ctl.ok("set", "ports", "5060,5070-5080/udp,6000/tcp",
                 netns=t.ROUTER)
    assert out == ("updated table inet siphelper for ports "
                   "5060,5070-5080/udp,6000/tcp\n")
    # setting the same ports again has nothing to update
    assert ctl.ok("set", "ports", "5060,5070-5080/udp,6000/tcp",
                  netns=t.ROUTER) == ""
    rs = nft_ruleset()
    assert rs.count("table inet siphelper {") == 1, rs
    assert rs.count('udp dport 5070-5080 ct helper set "sip-udp"') == 2, rs
    assert rs.count('tcp dport 6000 ct helper set "sip-tcp"') == 2, rs
    assert "5061" not in rs and "tcp dport 5070" not in rs, rs
    shown = json.loads(ctl.ok("-j", "nft", "show", netns=t.ROUTER))
    assert shown["in_sync"] is True and shown["rules"] == 8, shown

    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5075)
    msg = register()
    phone.sendto(msg, (t.SERVER_IP, 5075))
    got, _ = server.recvfrom(65535)
    assert got == public_form(msg)
    assert t.helper_of(5075) == "siphelper"


def test_nft_needs_cap_net_admin(alg, nft_cleanup, ctl):
    for args in (("nft", "install"), ("nft", "show")):
        r = ctl.run(*args, netns=t.ROUTER, prefix=NOBODY)
        assert r.returncode == 1, r
        assert "needs CAP_NET_ADMIN" in r.stderr, r.stderr
    assert table_gone()
    assert ctl.config(netns=t.ROUTER)["auto_assign"] is True


def test_apply_round_trip(siphelper, ctl, tmp_path):
    conf = tmp_path / "siphelper.conf"
    conf.write_text("# test\n"
                    "ports 5070,5080-5090/udp   # comment\n"
                    "\n"
                    "sip-timeout 10m sip-direct-media no\n"
                    "malformed drop\n")
    assert ctl.ok("apply", "-f", str(conf)) == ""
    assert ctl.config() == {
        **DEFAULT_CONFIG,
        "ports": [{"lo": 5070, "hi": 5070, "protocols": ["udp", "tcp"]},
                  {"lo": 5080, "hi": 5090, "protocols": ["udp"]}],
        "sip_timeout": 600, "sip_direct_media": False, "malformed": "drop"}

    # the shipped example is the seed contract
    ctl.ok("apply", "-f", EXAMPLE_CONF)
    c = ctl.config()
    assert c["ports"] == [
        {"lo": 5060, "hi": 5060, "protocols": ["udp", "tcp"]},
        {"lo": 5061, "hi": 5061, "protocols": ["udp", "tcp"]}]
    assert c["sip_timeout"] == 3600 and c["sip_direct_media"] is True
    assert c["malformed"] == "drop"     # not in the example: kept


@pytest.mark.parametrize("text,where", [
    ("ports 5070\nsip-timeout 1h\nsip-direct-media maybe\n", ":3: "),
    ("ports 5070\n# x\nports 5080\n", ":3: 'ports' is already set on "
     "line 1"),
    ("ports 5070\nsip-timeout\n", ":2: 'sip-timeout' needs a value"),
    ("# empty\n", ": no settings"),
])
def test_apply_bad_file_changes_nothing(siphelper, ctl, tmp_path, text,
                                        where):
    before = ctl.config()
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    r = ctl.run("apply", "-f", str(conf))
    assert r.returncode == 2, r
    assert r.stderr.startswith(f"siphelperctl: {conf}{where}"), r.stderr
    assert ctl.config() == before


def test_apply_missing_file(siphelper, ctl):
    r = ctl.run("apply", "-f", "/nonexistent.conf")
    assert r.returncode == 1, r
    assert "cannot read /nonexistent.conf" in r.stderr


def test_port_change_new_flows_at_once_call_keeps_going(alg, ctl, socks):
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    s5060 = socks(t.SERVER, t.SERVER_IP, 5060)
    s5070 = socks(t.SERVER, t.SERVER_IP, 5070)

    # a call in progress on 5060
    inv = invite()
    phone.sendto(inv, (t.SERVER_IP, 5060))
    got, _ = s5060.recvfrom(65535)
    assert got == public_form(inv)

    ctl.ok("set", "ports", "5070", netns=t.ROUTER)

    # its flow keeps the helper: the BYE is still rewritten
    b = bye()
    phone.sendto(b, (t.SERVER_IP, 5060))
    got, _ = s5060.recvfrom(65535)
    assert got == public_form(b) and got != b
    assert t.helper_of(5060) == "siphelper"

    # new flows follow the new port list at once, no reload
    t.flush()
    msg = register()
    phone.sendto(msg, (t.SERVER_IP, 5070))
    got, _ = s5070.recvfrom(65535)
    assert got == public_form(msg)
    assert t.helper_of(5070) == "siphelper"
    t.flush()
    phone.sendto(msg, (t.SERVER_IP, 5060))
    got, _ = s5060.recvfrom(65535)
    assert got == msg
    assert t.helper_of(5060) == ""
