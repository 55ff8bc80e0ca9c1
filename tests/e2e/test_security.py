# SPDX-License-Identifier: GPL-2.0
"""What a LAN host, a WAN host or a local user can make siphelper do
(docs/security.md): no configuration change without CAP_NET_ADMIN over
the netns, also not from a child user namespace; malformed netlink gets
errors; no pinhole towards another LAN host; no media from a spoofed
source with direct-media off; per-flow and per-netns bounds on
expectations, and a flush that returns to the baseline."""
import json
import random
import re
import socket
import struct

import pytest

import hostile as h
import topology as t
from conftest import expectations, load, rmmod, sh
from ctl import (Genl, attr, nest, u8, u16, u32, port, A_PORTS,  # noqa: F401
                 A_SIP_TIMEOUT, CMD_GET_CONFIG, CMD_SET_CONFIG, CMD_GET_STATS,
                 CMD_RESET_STATS, CMD_FLUSH, CMD_EVENT, ctl)
from sipmsg import invite, register, register_ok


def n_expect(out=None):
    out = expectations() if out is None else out
    return sum(1 for line in out.splitlines() if line.strip())


# --- permissions ---

def test_child_userns(net, module_path, ctl):
    """root of a new user namespace has CAP_NET_ADMIN there only: the init
    netns and the router's belong to the init user namespace, so every
    change is refused; a netns of its own (a container) it may configure,
    and only that one."""
    load(module_path)
    try:
        before = ctl.config()
        for args in (("set", "sip-timeout", "60"), ("stats", "reset"),
                     ("flush",)):
            r = ctl.run(*args, prefix="unshare -U -r")
            assert r.returncode == 1, (args, r)
            assert "needs CAP_NET_ADMIN" in r.stderr, r.stderr
        assert ctl.config() == before
        # reading stays open
        assert json.loads(ctl.ok("-j", "show", prefix="unshare -U -r")) == \
            before
        r = ctl.run("-n", t.ROUTER, "set", "sip-timeout", "60",
                    prefix="unshare -U -r")
        assert r.returncode == 1, r
        assert ctl.config(netns=t.ROUTER)["sip_timeout"] == 3600
        r = sh(f"unshare -U -r -n sh -c '{ctl.path} set sip-timeout 60 && "
               f"{ctl.path} -j show'")
        assert json.loads(r.stdout)["sip_timeout"] == 60
        assert ctl.config()["sip_timeout"] == 3600
    finally:
        rmmod("siphelper")


# --- malformed generic netlink ---

def raw(g, payload, timeout=2.0):
    """Send PAYLOAD as is; return the errno of the kernel's answer, or None
    when the kernel (rightly) ignores a message it cannot even frame."""
    g.s.settimeout(timeout)
    g.s.send(payload)
    try:
        while True:
            data = g.s.recv(65536)
            n, typ = struct.unpack_from("=IH", data)
            if typ == 2:
                return -struct.unpack_from("=i", data, 16)[0]
    except TimeoutError:
        return None


def nlmsg(family, body, flags=5, seq=1, length=None):
    n = 16 + len(body) if length is None else length
    return struct.pack("=IHHII", n, family, flags, seq, 0) + body


def genl(cmd, attrs=b"", version=1, reserved=0):
    return struct.pack("=BBH", cmd, version, reserved) + attrs


BAD = (22, 34)      # EINVAL, ERANGE: the policy's refusal


CASES = [
    ("unknown command", 99, b"", (95,)),            # EOPNOTSUPP
    ("command 0", 0, b"", (95,)),
    ("event is not a request", CMD_EVENT, b"", (95,)),
    ("attr length 0", CMD_SET_CONFIG, struct.pack("=HH", 0, 3), BAD),
    ("attr length 3", CMD_SET_CONFIG, struct.pack("=HH", 3, 3), BAD),
    ("attr beyond message", CMD_SET_CONFIG,
     struct.pack("=HHI", 200, 3, 60), BAD),
    ("u32 as 8 bytes", CMD_SET_CONFIG, attr(A_SIP_TIMEOUT, b"\1" * 8), BAD),
    ("u8 as 0 bytes", CMD_SET_CONFIG, attr(4, b""), BAD),
    ("nest of garbage", CMD_SET_CONFIG, nest(A_PORTS, b"\xff" * 13), BAD),
    ("entry not a nest", CMD_SET_CONFIG,
     nest(A_PORTS, u16(1, 5060)), BAD),
    ("nested 64 deep", CMD_SET_CONFIG,
     nest(A_PORTS, (lambda b: [b := nest(1, b) for _ in range(64)][-1])(
         u16(1, 5060))), BAD),
    ("port as u32", CMD_SET_CONFIG, nest(A_PORTS, nest(1, u32(1, 5060))),
     BAD),
    ("attribute type 0", CMD_SET_CONFIG, attr(0, b"\0" * 4), BAD),
    ("attribute type 0x3fff", CMD_SET_CONFIG, attr(0x3fff, b"\0" * 4), BAD),
    ("stats attribute in a request", CMD_GET_STATS, attr(7, b""), BAD),
    ("flush counts in a request", CMD_FLUSH, u32(8, 1), BAD),
]


def test_malformed_netlink_refused(siphelper, ctl):
    """Each malformed request gets the policy's error; nothing changes."""
    before = ctl.config()
    g = Genl()
    got = {name: raw(g, nlmsg(g.family, genl(cmd, attrs), seq=i + 2))
           for i, (name, cmd, attrs, _) in enumerate(CASES)}
    wrong = {name: got[name] for name, _, _, errno in CASES
             if got[name] not in errno}
    assert not wrong, wrong
    assert ctl.config() == before


def test_malformed_netlink_framing(siphelper, ctl):
    """Headers shorter than genlmsghdr, lengths that lie, requests without
    NLM_F_REQUEST: errors or silence, never a crash; then a random storm
    of requests to the family."""
    before = ctl.config()
    g = Genl()
    fam = g.family
    assert raw(g, nlmsg(fam, b"\2")) == 22                 # 1-byte genl hdr
    assert raw(g, nlmsg(fam, b"")) == 22
    assert raw(g, nlmsg(fam, genl(2, u32(3, 60)), length=200)) is None
    assert raw(g, nlmsg(fam, genl(2, u32(3, 60)), length=8)) is None
    raw(g, nlmsg(fam, genl(2, u32(3, 60)), flags=0), timeout=0.5)
    assert raw(g, nlmsg(fam, genl(1), flags=0x300 | 5)) != 0   # no dump
    assert ctl.config() == before
    rng = random.Random(11)
    answered = 0
    for i in range(2000):
        cmd = rng.choice((0, 1, 3, 4, 5, 6, 7, 200, 255, 2))
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(48)))
        if rng.random() < 0.5:
            body = u32(rng.randrange(12), rng.randrange(1 << 32)) + body
        err = raw(Genl() if i % 500 == 0 else g,
                  nlmsg(fam, genl(cmd, body, reserved=rng.choice((0, 0, 1))),
                        seq=i + 2), timeout=0.5)
        answered += err is not None
    assert answered > 1900
    # still answering, and whatever was accepted is a valid config
    c = ctl.config()
    assert 1 <= c["sip_timeout"] <= 86400 and len(c["ports"]) <= 32


# --- pinholes ---

def invite_with(sdp_from, sdp_to, extra=b""):
    msg = invite()
    body = msg.split(b"\r\n\r\n", 1)[1].replace(
        f"c=IN IP4 {sdp_from}".encode(), f"c=IN IP4 {sdp_to}".encode())
    return h.with_body(msg, body + extra)


def test_no_pinhole_for_another_host(alg, socks):
    """Phone A's SDP naming phone B, the router or loopback: no
    expectation, nothing rewritten in the SDP, and media sent to the
    public port reaches nobody (nor does it before any signalling)."""
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    victim = socks(t.PHONE, t.PHONE2_IP, 10006)
    victim.settimeout(1)
    media = socks(t.SERVER, t.SERVER_IP, 20000)
    # no signalling, no pinhole: a WAN host's packet reaches nobody
    mine = socks(t.PHONE, t.PHONE_IP, 10006)
    mine.settimeout(1)
    media.sendto(b"x", (t.PUBLIC_IP, 10006))
    with pytest.raises(TimeoutError):
        mine.recvfrom(2048)
    for target in (t.PHONE2_IP, t.LAN_IP, "127.0.0.1"):
        msg = invite_with(t.PHONE_IP, target)
        phone.sendto(msg, (t.SERVER_IP, 5060))
        got, _ = server.recvfrom(65535)
        assert got == msg.replace(b"192.168.0.31:5010",
                                  b"212.19.6.166:5010").replace(
            b"o=011 164445748 546426177 IN IP4 192.168.0.31",
            b"o=011 164445748 546426177 IN IP4 212.19.6.166"), target
        assert f"c=IN IP4 {target}\r\n".encode() in got
        assert b"m=audio 10006 RTP/AVP" in got
        assert n_expect() == 0, (target, expectations())
        media.sendto(b"rtp", (t.PUBLIC_IP, 10006))
        with pytest.raises(TimeoutError):
            victim.recvfrom(2048)


def test_rtcp_address_cannot_redirect(alg, socks):
    """a=rtcp naming phone B: the RTCP pinhole still leads to phone A."""
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    mine = socks(t.PHONE, t.PHONE_IP, 10011)
    victim = socks(t.PHONE, t.PHONE2_IP, 10011)
    victim.settimeout(1)
    msg = invite_with(t.PHONE_IP, t.PHONE_IP,
                      f"a=rtcp:10011 IN IP4 {t.PHONE2_IP}\r\n".encode())
    phone.sendto(msg, (t.SERVER_IP, 5060))
    got, _ = server.recvfrom(65535)
    assert f"a=rtcp:10007 IN IP4 {t.PHONE2_IP}\r\n".encode() in got, got
    media = socks(t.SERVER, t.SERVER_IP, 20001)
    media.sendto(b"rtcp", (t.PUBLIC_IP, 10007))
    assert mine.recvfrom(2048)[0] == b"rtcp"
    with pytest.raises(TimeoutError):
        victim.recvfrom(2048)


def spoofed_udp(src, sport, dst, dport, payload):
    """An IPv4/UDP packet with any source address (raw socket in the
    server netns; UDP checksum 0 = none)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17,
                     0, socket.inet_aton(src), socket.inet_aton(dst))
    with h.netns(t.SERVER):
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                          socket.IPPROTO_RAW)
    try:
        s.sendto(ip + udp, (dst, 0))
    finally:
        s.close()


def test_spoofed_media_refused_without_direct_media(net, module_path, socks):
    """direct-media off: media from any address but the signalling
    peer's is refused, whatever source it claims."""
    load(module_path, "direct_media=0")
    t.flush()
    try:
        phone = socks(t.PHONE, t.PHONE_IP, 5010)
        server = socks(t.SERVER, t.SERVER_IP, 5060)
        rtp = socks(t.PHONE, t.PHONE_IP, 10006)
        rtp.settimeout(1)
        phone.sendto(invite(), (t.SERVER_IP, 5060))
        server.recvfrom(65535)
        for src in ("212.19.6.77", t.MEDIA_IP, t.PUBLIC_IP):
            spoofed_udp(src, 20000, t.PUBLIC_IP, 10006, b"spoof")
            with pytest.raises(TimeoutError):
                rtp.recvfrom(2048)
        spoofed_udp(t.SERVER_IP, 20000, t.PUBLIC_IP, 10006, b"peer")
        assert rtp.recvfrom(2048)[0] == b"peer"
    finally:
        t.flush()
        rmmod("siphelper")


# --- resource bounds ---

def reinvite(call, port, cseq, host=t.PHONE_IP):
    msg = invite(media=port).replace(
        b"Call-ID: 1021667421783-273216449350@192.168.0.31",
        b"Call-ID: " + call.encode())
    return msg.replace(b"CSeq: 1 INVITE", b"CSeq: %d INVITE" % cseq)


def send_all(phone, server, msgs):
    for m in msgs:
        phone.sendto(m, (t.SERVER_IP, 5060))
        server.recvfrom(65535)


def test_expectation_flood_bounded_per_flow(alg, socks):
    """Hundreds of re-INVITEs with new ports in one call: each offer
    supersedes the last, so the call keeps one pair. Then hundreds of
    calls on one signalling flow: each has its own pair, in the call table
    (bounded per netns, as conntrack bounds the expectations), not evicted
    by the others."""
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    send_all(phone, server, [reinvite("c1", 20000 + 2 * i, i + 1)
                             for i in range(300)])
    assert n_expect() == 2, expectations()
    send_all(phone, server, [reinvite(f"call{i}", 40000 + 2 * i, 1)
                             for i in range(300)])
    assert n_expect() == 2 + 2 * 300
    k = h.stats()
    assert k["expectations_created"] >= 1200, k    # two per INVITE were made
    assert k["calls"] == 301, k
    # many REGISTER refreshes: one registration expectation per flow
    for i in range(100):
        phone.sendto(register(expires=60 + i), (t.SERVER_IP, 5060))
        server.recvfrom(65535)
        server.sendto(register_ok(expires=60 + i), (t.PUBLIC_IP, 5010))
        phone.recvfrom(65535)
    exp = expectations()
    assert len(re.findall(r"dport=5010\b", exp)) == 1, exp
    assert n_expect(exp) == 2 + 2 * 300 + 1


def test_expectation_flood_bounded_per_netns(alg, socks):
    """Many signalling flows, each offering 16 streams: the netns total
    stays within nf_conntrack_expect_max; flush returns to the baseline."""
    limit = int(t.nsexec(t.ROUTER, "cat /proc/sys/net/netfilter/"
                         "nf_conntrack_expect_max").stdout)
    base = int(t.nsexec(t.ROUTER, "conntrack -C").stdout)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    flows = max(8, limit // 32 + 4)
    body = h.sdp_media(16, port=30000)
    for i in range(flows):
        phone = socks(t.PHONE, t.PHONE_IP, 6000 + i)
        phone.sendto(h.with_body(reinvite(f"f{i}", 0, 1), body),
                     (t.SERVER_IP, 5060))
        server.recvfrom(65535)
    n = n_expect()
    assert 32 < n <= limit, (n, limit)
    from ctl import Genl as G
    with h.netns(t.ROUTER):
        g = G()
    err, _, replies = g.request(g.family, CMD_FLUSH)
    assert err == 0
    got = G._attrs(replies[0])
    assert struct.unpack("=I", got[8])[0] >= flows        # conntracks
    assert struct.unpack("=I", got[9])[0] == n            # expectations
    assert n_expect() == 0
    assert int(t.nsexec(t.ROUTER, "conntrack -C").stdout) <= base
