# SPDX-License-Identifier: GPL-2.0
"""The generic netlink control plane through siphelperctl: set/show round
trip, per-netns configs, permissions, validation, stats, flush."""
import json

import pytest

from conftest import insmod, rmmod, sh
from ctl import DEFAULT_CONFIG, ctl  # noqa: F401  (fixture)
import topology as t
import uapi

NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups"
DEFAULT = DEFAULT_CONFIG


@pytest.fixture
def netns():
    names = ["shp_a", "shp_b"]
    for n in names:
        sh(f"ip netns add {n}")
    yield names
    for n in names:
        sh(f"ip netns del {n}", check=False)


def test_module_not_loaded(ctl):
    rmmod("siphelper", check=False)
    r = ctl.run("show")
    assert r.returncode == 1
    assert "siphelper module not loaded, and the kernel could not load it" \
        in r.stderr


def test_defaults_and_text(siphelper, ctl):
    assert ctl.config() == DEFAULT
    out = ctl.ok("show")
    assert "ports: 5060,5061\n" in out
    assert "sip-timeout: 1h\n" in out
    assert "sip-direct-media: yes\n" in out


def test_set_show_round_trip(siphelper, ctl):
    ctl.ok("set", "ports", "5060,5070-5080/udp,6000/tcp", "sip-timeout",
           "10m", "sip-direct-media", "no", "auto-assign", "no",
           "malformed", "drop", "pinholes-only", "yes", "tcp-hold-max",
           "1k", "tcp-hold-total", "60000", "sip-unreplied-timeout", "0",
           "sip-max-calls", "10", "sip-media-timeout", "30s",
           "sip-max-call-duration", "4h", "sip-call-limit", "100",
           "sip-source-call-limit", "2", "sip-source-rate", "5",
           "sip-unknown-methods", "drop")
    c = ctl.config()
    assert c == {"ports": [
        {"lo": 5060, "hi": 5060, "protocols": ["udp", "tcp"]},
        {"lo": 5070, "hi": 5080, "protocols": ["udp"]},
        {"lo": 6000, "hi": 6000, "protocols": ["tcp"]}],
        "sip_timeout": 600, "sip_direct_media": False,
        "auto_assign": False, "malformed": "drop", "pinholes_only": True,
        "tcp_hold_max": 1024, "tcp_hold_total": 60000,
        "sip_unreplied_timeout": 0, "sip_max_calls": 10,
        "sip_media_timeout": 30, "sip_max_call_duration": 14400,
        "sip_call_limit": 100, "sip_source_call_limit": 2,
        "sip_source_rate": 5, "sip_unknown_methods": "drop"}
    assert c.keys() == DEFAULT.keys()   # every key is set above
    # a subset changes only itself
    ctl.ok("set", "sip-timeout", "90s")
    c2 = ctl.config()
    assert c2["sip_timeout"] == 90
    assert {k: v for k, v in c2.items() if k != "sip_timeout"} == \
        {k: v for k, v in c.items() if k != "sip_timeout"}
    # text output feeds back into set
    text = dict(line.split(": ", 1) for line in ctl.ok("show").splitlines())
    assert text["ports"] == "5060,5070-5080/udp,6000/tcp"
    ctl.ok("set", "ports", text["ports"], "sip-timeout", "1h")
    assert ctl.config()["ports"] == c["ports"]


def test_netns_are_separate(siphelper, ctl, netns):
    a, b = netns
    ctl.ok("set", "sip-timeout", "600", "ports", "5070", netns=a)
    ctl.ok("-n", b, "set", "sip-timeout", "1200")
    assert ctl.config(netns=a)["sip_timeout"] == 600
    assert ctl.config(netns=a)["ports"] == [
        {"lo": 5070, "hi": 5070, "protocols": ["udp", "tcp"]}]
    assert ctl.config("-n", b)["sip_timeout"] == 1200
    assert ctl.config("-n", b)["ports"] == DEFAULT["ports"]
    assert ctl.config() == DEFAULT
    r = ctl.run("-n", "no_such_ns", "show")
    assert r.returncode == 1 and "no_such_ns" in r.stderr


@pytest.mark.parametrize("args", [
    ("set", "sip-timeout", "60"),
    ("set", "ports", "5070"),
    ("stats", "reset"),
    ("flush",),
])
def test_unprivileged_refused(siphelper, ctl, args):
    before = ctl.config()
    r = ctl.run(*args, prefix=NOBODY)
    assert r.returncode == 1, r
    assert "needs CAP_NET_ADMIN" in r.stderr, r.stderr
    assert ctl.config() == before


def test_unprivileged_may_read(siphelper, ctl):
    assert json.loads(ctl.ok("-j", "show", prefix=NOBODY)) == DEFAULT
    ctl.ok("stats", prefix=NOBODY)


def test_capability_dropped_refused(siphelper, ctl):
    r = ctl.run("set", "sip-timeout", "60",
                prefix="setpriv --inh-caps=-all --bounding-set=-net_admin")
    # root without CAP_NET_ADMIN in its effective set after exec
    assert r.returncode == 1 and "needs CAP_NET_ADMIN" in r.stderr, r
    assert ctl.config() == DEFAULT


@pytest.mark.parametrize("args", [
    ("ports", "0"), ("ports", "65536"), ("ports", "6000-5000"),
    ("ports", "5060,5060"), ("ports", "5060/sctp"), ("ports", ""),
    ("ports", ",".join(str(5000 + i) for i in range(33))),
    ("sip-timeout", "0"), ("sip-timeout", "86401"), ("sip-timeout", "2d"),
    ("sip-timeout", "soon"), ("sip-direct-media", "maybe"),
    ("auto-assign", "2"), ("malformed", "reject"), ("colour", "red"),
    ("pinholes-only", "maybe"), ("tcp-hold-max", "60001"),
    ("tcp-hold-max", "64k"), ("tcp-hold-max", "-1"),
    ("tcp-hold-total", "1025m"), ("tcp-hold-total", "4g"),
    ("sip-unreplied-timeout", "25h"), ("sip-unreplied-timeout", "-1"),
    ("sip-max-calls", "0"), ("sip-max-calls", "1048577"),
    ("sip-max-calls", "1k"), ("sip-media-timeout", "25h"),
    ("sip-media-timeout", "-1"), ("sip-max-call-duration", "2d"),
    ("sip-call-limit", "1048577"), ("sip-source-call-limit", "x"),
    ("sip-source-rate", "1000001"), ("sip-unknown-methods", "reject"),
    ("ports",), (),
])
def test_invalid_refused(siphelper, ctl, args):
    r = ctl.run("set", *args)
    assert r.returncode == 2, r
    assert r.stderr.startswith("siphelperctl: "), r.stderr
    assert ctl.config() == DEFAULT


def test_usage_errors(ctl):
    for args in (("frobnicate",), ("show", "x"), ("stats", "clear"),
                 ("--bogus",)):
        assert ctl.run(*args).returncode == 2, args
    for c in ("show", "set", "stats", "flush"):
        r = ctl.run(c, "--help")
        assert r.returncode == 0 and "usage: siphelperctl" in r.stdout
    assert ctl.ok("--version").startswith("siphelperctl ")


def test_no_command_shows(siphelper, ctl):
    """As wg(8): no command is `show`."""
    assert ctl.ok() == ctl.ok("show")
    assert ctl.config() == json.loads(ctl.ok("-j"))


def test_stats(siphelper, ctl):
    s = json.loads(ctl.ok("-j", "stats"))
    for k in ("seen", "parsed", "rewritten_headers", "rewritten_sdp",
              "registrations", "malformed", "dropped"):
        assert s[k] >= 0
    assert "seen:" in ctl.ok("stats")
    ctl.ok("stats", "reset")
    assert all(v == 0 for v in json.loads(ctl.ok("-j", "stats")).values())


def test_flush(siphelper, ctl):
    r = json.loads(ctl.ok("-j", "flush"))
    assert r == {"conntracks": 0, "expectations": 0}
    assert "conntracks:" in ctl.ok("flush")


def test_rmmod_with_open_config(siphelper, ctl, netns):
    ctl.ok("set", "sip-timeout", "77", netns=netns[0])
    rmmod("siphelper")
    insmod(siphelper)
    assert ctl.config(netns=netns[0])["sip_timeout"] == 3600


# --- the kernel's own checks, bypassing siphelperctl's ---
from ctl import (Genl, attr, nest, u8, u16, u32, port, A_PORTS,  # noqa: E402
                 A_SIP_TIMEOUT, A_DIRECT_MEDIA, A_MALFORMED_POLICY, A_STATS,
                 A_VERSION)


@pytest.mark.parametrize("name,attrs,msg", [
    ("timeout 0", u32(A_SIP_TIMEOUT, 0), ""),
    ("timeout 86401", u32(A_SIP_TIMEOUT, 86401), ""),
    ("timeout wrong size", u16(A_SIP_TIMEOUT, 60), ""),
    ("direct-media 2", u8(A_DIRECT_MEDIA, 2), ""),
    ("malformed 2", u8(A_MALFORMED_POLICY, 2), ""),
    ("pinholes-only 2", u8(uapi.SIPHELPER_A_PINHOLES_ONLY, 2), ""),
    ("tcp-hold-max 60001", u32(uapi.SIPHELPER_A_TCP_HOLD_MAX, 60001), ""),
    ("tcp-hold-total 1g+1",
     u32(uapi.SIPHELPER_A_TCP_HOLD_TOTAL, (1 << 30) + 1), ""),
    ("sip-unreplied-timeout 86401",
     u32(uapi.SIPHELPER_A_SIP_UNREPLIED_TIMEOUT, 86401), ""),
    ("sip-max-calls 0", u32(uapi.SIPHELPER_A_SIP_MAX_CALLS, 0), ""),
    ("sip-media-timeout 86401",
     u32(uapi.SIPHELPER_A_SIP_MEDIA_TIMEOUT, 86401), ""),
    ("sip-max-call-duration 86401",
     u32(uapi.SIPHELPER_A_SIP_MAX_CALL_DURATION, 86401), ""),
    ("sip-source-rate 1000001",
     u32(uapi.SIPHELPER_A_SIP_SOURCE_RATE, 1000001), ""),
    ("sip-unknown-methods 2",
     u8(uapi.SIPHELPER_A_SIP_UNKNOWN_METHODS, 2), ""),
    ("flush-call-id too long",
     attr(uapi.SIPHELPER_A_FLUSH_CALL_ID, b"c" * 129), ""),
    ("unknown attribute", u32(99, 1), ""),
    ("reply-only attribute", attr(A_STATS, b""), ""),
    ("version attribute", u32(A_VERSION, 1), ""),
    ("port 0", nest(A_PORTS, port(0)), ""),
    ("protos 0", nest(A_PORTS, port(5060, 5060, 0)), ""),
    ("protos 4", nest(A_PORTS, port(5060, 5060, 4)), ""),
    ("no lo", nest(A_PORTS, port(None, 5060)), "without a low port"),
    ("reversed", nest(A_PORTS, port(6000, 5000)), "reversed"),
    ("overlap", nest(A_PORTS, port(5060, 5070) + port(5065)), "overlap"),
    ("33 entries", nest(A_PORTS, b"".join(port(5000 + i)
                                          for i in range(33))), "too many"),
    ("nest without NLA_F_NESTED", attr(A_PORTS, b""), "NLA_F_NESTED"),
    ("unknown in entry", nest(A_PORTS, nest(1, u16(9, 1))), ""),
    ("all or nothing", u32(A_SIP_TIMEOUT, 60) +
     nest(A_PORTS, port(6000, 5000)), "reversed"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_kernel_refuses(siphelper, ctl, name, attrs, msg):
    g = Genl()
    err, ext = g.set(attrs)
    assert err != 0, name
    assert ext, f"{name}: no extack message"
    assert msg in ext, (name, ext)
    assert ctl.config() == DEFAULT


def test_kernel_refuses_reserved_header(siphelper, ctl):
    err, _ = Genl().set(u32(A_SIP_TIMEOUT, 60), reserved=1)
    assert err != 0
    assert ctl.config() == DEFAULT


def test_kernel_accepts_and_defaults(siphelper, ctl):
    g = Genl()
    assert g.set(u32(A_SIP_TIMEOUT, 60)) == (0, "")
    assert g.set(nest(A_PORTS, port(5070))) == (0, "")
    c = ctl.config()
    assert c["sip_timeout"] == 60
    assert c["ports"] == [{"lo": 5070, "hi": 5070,
                           "protocols": ["udp", "tcp"]}]



# --- the kernel's policy and ops are what the spec says ---
from kernel_uapi import (CTRL_ATTR_FAMILY_NAME,  # noqa: E402
                         CTRL_ATTR_MCAST_GROUPS,
                         CTRL_ATTR_MCAST_GRP_NAME, CTRL_ATTR_OP_FLAGS,
                         CTRL_ATTR_OP_ID, CTRL_ATTR_OPS, CTRL_ATTR_POLICY,
                         CTRL_CMD_GETPOLICY, GENL_ADMIN_PERM, GENL_CMD_CAP_DO,
                         GENL_CMD_CAP_DUMP, GENL_ID_CTRL,
                         GENL_UNS_ADMIN_PERM, NL_ATTR_TYPE_BINARY,
                         NL_ATTR_TYPE_NESTED, NL_ATTR_TYPE_U8,
                         NL_ATTR_TYPE_U16, NL_ATTR_TYPE_U32, NL_ATTR_TYPE_U64,
                         NL_POLICY_TYPE_ATTR_MAX_LENGTH,
                         NL_POLICY_TYPE_ATTR_MAX_VALUE_U,
                         NL_POLICY_TYPE_ATTR_MIN_LENGTH,
                         NL_POLICY_TYPE_ATTR_MIN_VALUE_U,
                         NL_POLICY_TYPE_ATTR_POLICY_IDX,
                         NL_POLICY_TYPE_ATTR_TYPE)

SPEC = uapi.spec()
SPEC_SETS = {s["name"]: s for s in SPEC["attribute-sets"]}
SPEC_CONSTS = {d["name"]: d["value"] for d in SPEC["definitions"]
               if d["type"] == "const"}
INT_TYPES = {"u8": (NL_ATTR_TYPE_U8, 8), "u16": (NL_ATTR_TYPE_U16, 16),
             "u32": (NL_ATTR_TYPE_U32, 32), "u64": (NL_ATTR_TYPE_U64, 64)}


def _c_name(prefix, name):
    return getattr(uapi, (prefix + name).upper().replace("-", "_"))


def _spec_policy(set_name, accepted=None):
    """{attribute number: (NL_ATTR_TYPE_*, min, max or nested policy)} of
    a set as the spec has the kernel accept it: every attribute of a
    nested set, the requests' attributes at the top."""
    aset = SPEC_SETS[set_name]
    out = {}
    for a in aset["attributes"]:
        if a["type"] in ("unused", "pad") or \
                (accepted is not None and a["name"] not in accepted):
            continue
        num = _c_name(aset["name-prefix"], a["name"])
        if a["type"] == "nest":
            out[num] = (NL_ATTR_TYPE_NESTED,
                        _spec_policy(a["nested-attributes"]))
            continue
        checks = a.get("checks", {})
        if a["type"] == "binary":
            out[num] = (NL_ATTR_TYPE_BINARY,
                        *[SPEC_CONSTS.get(checks.get(k), checks.get(k, d))
                          for k, d in (("min-len", 0), ("max-len", None))])
            continue
        nl_type, bits = INT_TYPES[a["type"]]
        checks = a.get("checks", {})
        lim = [SPEC_CONSTS.get(checks.get(k), checks.get(k, d))
               for k, d in (("min", 0), ("max", (1 << bits) - 1))]
        out[num] = (nl_type, *lim)
    return out


def _kernel_policy():
    """The family's policies as nlctrl dumps them, in _spec_policy()'s
    form, starting from the first command's do policy."""
    g = Genl()
    err, _, msgs = g.request(GENL_ID_CTRL, CTRL_CMD_GETPOLICY,
                             attr(CTRL_ATTR_FAMILY_NAME, b"siphelper\0"),
                             dump=True)
    assert err == 0, err
    pols = {}
    for m in msgs:
        for idx, pol in Genl._attrs(Genl._attrs(m).get(CTRL_ATTR_POLICY,
                                                       b"")).items():
            for num, desc in Genl._attrs(pol).items():
                pols.setdefault(idx, {})[num] = {
                    k: int.from_bytes(v, "little")
                    for k, v in Genl._attrs(desc).items()}

    def walk(idx):
        out = {}
        for num, d in pols[idx].items():
            if d[NL_POLICY_TYPE_ATTR_TYPE] == NL_ATTR_TYPE_NESTED:
                out[num] = (NL_ATTR_TYPE_NESTED,
                            walk(d[NL_POLICY_TYPE_ATTR_POLICY_IDX]))
            elif d[NL_POLICY_TYPE_ATTR_TYPE] == NL_ATTR_TYPE_BINARY:
                out[num] = (NL_ATTR_TYPE_BINARY,
                            d.get(NL_POLICY_TYPE_ATTR_MIN_LENGTH, 0),
                            d.get(NL_POLICY_TYPE_ATTR_MAX_LENGTH))
            else:
                out[num] = (d[NL_POLICY_TYPE_ATTR_TYPE],
                            d[NL_POLICY_TYPE_ATTR_MIN_VALUE_U],
                            d[NL_POLICY_TYPE_ATTR_MAX_VALUE_U])
        return out
    return walk(0)


def test_kernel_policy_is_the_spec(siphelper):
    ops = SPEC["operations"]["list"]
    requests = {a for op in ops
                for a in op.get("do", {}).get("request", {})
                .get("attributes", [])}
    assert _kernel_policy() == _spec_policy(SPEC["name"], requests)


def test_kernel_ops_and_groups_are_the_spec(siphelper):
    fam = Genl().family_attrs
    got = {}
    for op in Genl._attrs(fam[CTRL_ATTR_OPS]).values():
        a = Genl._attrs(op)
        flags = int.from_bytes(a[CTRL_ATTR_OP_FLAGS], "little")
        got[int.from_bytes(a[CTRL_ATTR_OP_ID], "little")] = (
            bool(flags & GENL_CMD_CAP_DO), bool(flags & GENL_CMD_CAP_DUMP),
            bool(flags & (GENL_ADMIN_PERM | GENL_UNS_ADMIN_PERM)))
    prefix = SPEC["operations"]["name-prefix"]
    want = {_c_name(prefix, op["name"]): ("do" in op, "dump" in op,
                                          "admin-perm" in op.get("flags", []))
            for op in SPEC["operations"]["list"] if "do" in op or "dump" in op}
    assert got == want
    groups = {Genl._attrs(g)[CTRL_ATTR_MCAST_GRP_NAME].rstrip(b"\0").decode()
              for g in Genl._attrs(fam[CTRL_ATTR_MCAST_GROUPS]).values()}
    assert groups == {g["name"] for g in SPEC["mcast-groups"]["list"]}

NFT_HELPER = """table inet shp_t {
    ct helper h { type "siphelper" protocol udp; }
    chain out {
        type filter hook output priority 0;
        udp dport 5060 ct helper set "h"
    }
}
"""


def ct_udp(ns):
    return sh(f"ip netns exec {ns} conntrack -L -p udp 2>/dev/null").stdout


def test_flush_removes_only_our_conntracks(siphelper, ctl, netns):
    a, b = netns
    for ns in netns:
        sh(f"ip -n {ns} link set lo up")
        # unreplied UDP flows live 30 s: a starved debug guest can take
        # that long to set up the second netns and reach the flush
        sh(f"ip netns exec {ns} sysctl -qw "
           "net.netfilter.nf_conntrack_udp_timeout=600")
        sh(f"ip netns exec {ns} nft -f - <<'EOF'\n{NFT_HELPER}EOF")
        t.send_udp(ns, [5060, 9999])
        out = ct_udp(ns)
        assert "dport=5060" in out and "helper=siphelper" in out, out
        assert "dport=9999" in out, out
    r = json.loads(ctl.ok("-j", "-n", a, "flush"))
    assert r["conntracks"] >= 1, r
    out = ct_udp(a)
    assert "dport=5060" not in out, out
    assert "dport=9999" in out, out      # not ours: kept
    assert "dport=5060" in ct_udp(b)     # other netns: untouched
    r = ctl.run("-n", b, "flush", prefix=NOBODY)
    assert r.returncode == 1 and "CAP_NET_ADMIN" in r.stderr
    assert "dport=5060" in ct_udp(b)
