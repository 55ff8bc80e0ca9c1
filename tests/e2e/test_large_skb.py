# SPDX-License-Identifier: GPL-2.0
"""One TCP packet of almost 64 KiB carrying many SIP messages whose
rewrites grow (IPv6: fd00::31 -> 2001:db8::166, +5 bytes per address), as
GRO/TSO hand the router. The packet cannot grow past 64 KiB - 1 (nf_nat's
mangle refuses it) nor the per-CPU scratch: the messages are rewritten
while the packet has room, and from the first one that does not fit on,
the rest passes as the phone wrote it (counted `truncated`), never a byte
written outside the scratch. (Before the fix the output position went on
past the scratch when a message was skipped, and the next rewritten
message was written beyond it: KASAN slab-out-of-bounds on the debug
kernel, silent corruption elsewhere.)

The links get a 65535-byte MTU so that the phone's one write is one
segment, the same on every run (a GSO packet's size depends on timing)."""
import os
import re
import socket
import threading
import time

import pytest

import topology as t
from conftest import load, unload
from dialog import request, to_public
from stats import delta, stats

MTU = 65535
TOTAL = 65000           # payload bytes in the one segment
TCP_HDR = 32            # with timestamps, as Linux sends them
IP6_HDR = 40
# hostile records packed into 64 KiB segments (fewer under KASAN + TCG)
RECORDS = 500 if "siphelper-debug" in os.uname().release else 1500


@pytest.fixture
def big_mtu(net):
    links = [(t.PHONE, "eth0"), (t.ROUTER, "lan0"), (t.ROUTER, "wan0"),
             (t.SERVER, "eth0")]
    for ns, dev in links:
        t.nsexec(ns, f"ip link set {dev} mtu {MTU}")
    # the router's SYNPROXY (profile) announces the MSS of these links
    t.synproxy_mss(MTU - 40)
    yield
    t.synproxy_mss(1460)
    for ns, dev in links:
        t.nsexec(ns, f"ip link set {dev} mtu 1500")


def _messages():
    """Small rewritten requests, a filler that needs no rewrite, one more
    rewritten request: their total is TOTAL bytes."""
    small = [request("OPTIONS", f"big{i:03}", i + 1, host=t.PHONE6,
                     proto="TCP", ruri="sip:avantelecom.avantele.com")
             for i in range(90)]
    last = request("OPTIONS", "biglast", 999, host=t.PHONE6, proto="TCP",
                   ruri="sip:avantelecom.avantele.com")
    rest = TOTAL - sum(map(len, small)) - len(last)
    filler = _filler(rest, b"filler")
    assert len(filler) == rest
    return small + [filler, last]


def _filler(size, name):
    head = (b"MESSAGE sip:avantelecom.avantele.com SIP/2.0\r\n"
            b"Via: SIP/2.0/TCP [2001:db8::99]:5060;branch=z9hG4bK%s\r\n"
            b"From: <sip:fill@avantelecom.avantele.com>;tag=1\r\n"
            b"To: <sip:fill@avantelecom.avantele.com>\r\n"
            b"Call-ID: %s\r\nCSeq: 1 MESSAGE\r\n"
            b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n")
    body = size - len(head % (name, name, 10000))
    return head % (name, name, body) + b"x" * body


def _connect_warm(socks):
    """A TCP connection whose window lets one segment carry TOTAL bytes:
    Linux sends at most half the largest window the peer offered, so the
    server gets a large receive buffer and the phone sends some traffic
    (that needs no rewrite) until the window has grown. The send buffer
    holds the whole write: a full one would push a partial segment out
    despite the cork."""
    listener = socks(t.SERVER, t.SERVER6, 5060, t.tcp)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    listener.listen(1)
    phone = socks(t.PHONE, t.PHONE6, 5010, t.tcp)
    phone.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    phone.connect((t.SERVER6, 5060))
    server, _ = listener.accept()
    listener.close()
    server.settimeout(5)
    for i in range(6):
        warm = _filler(30000, b"warm%d" % i)
        phone.sendall(warm)
        assert t.recv_exact(server, len(warm)) == warm
    return phone, server


def _expected(msgs):
    """What leaves the router: messages rewritten while the packet stays
    within 64 KiB - 1, the rest as written."""
    pub = dict(priv=t.PHONE6, pub=t.PUBLIC6)
    room = MTU - IP6_HDR - TCP_HDR - TOTAL
    out, grown, fitting = b"", 0, True
    rewritten = 0
    for m in msgs:
        new = to_public(m, **pub)
        if fitting and grown + len(new) - len(m) <= room:
            grown += len(new) - len(m)
            out += new
            rewritten += new != m
        else:
            fitting = False
            out += m
    return out, rewritten


def test_one_segment_larger_than_its_room(big_mtu, module_path, socks):
    load(module_path)
    t.flush()
    try:
        phone, server = _connect_warm(socks)
        try:
            msgs = _messages()
            want, rewritten = _expected(msgs)
            # the growth of all rewrites is more than the room left, and
            # more than the scratch's 65535 bytes can take
            assert len(b"".join(to_public(m, priv=t.PHONE6, pub=t.PUBLIC6)
                                for m in msgs)) > 65535
            assert 0 < rewritten < len(msgs) - 2
            before = stats()
            phone.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            phone.sendall(b"".join(msgs))
            phone.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
            got = t.recv_exact(server, len(want))
            d = delta(before, stats())
            assert got == want, d
            # one packet: all of it parsed up to the first message that
            # did not fit, counted once as truncated, nothing dropped
            assert d.get("rewritten_headers") == rewritten, d
            assert d.get("parsed") == rewritten + 1, d
            assert d.get("truncated") == 1, d
            assert "dropped" not in d and "malformed" not in d, d
            # and the stream goes on with the next message rewritten
            nxt = request("OPTIONS", "bignext", 1000, host=t.PHONE6,
                          proto="TCP", ruri="sip:avantelecom.avantele.com")
            phone.sendall(nxt)
            pub = to_public(nxt, priv=t.PHONE6, pub=t.PUBLIC6)
            assert t.recv_exact(server, len(pub)) == pub
            assert re.search(rb"Via: SIP/2.0/TCP \[2001:db8::166\]", pub)
        finally:
            t.tcp_reset(phone, server)
    finally:
        t.flush()
        unload()


def test_hostile_stream_in_64k_segments(big_mtu, module_path, socks):
    """The hostile generator's messages from the phone (IPv6: rewrites
    grow) over TCP, packed into segments of about 64 KiB, one write each:
    many messages per packet, malformed ones among them, more rewrites
    than the room (on the debug kernel KASAN watches the scratch). Nothing
    is dropped, the counters add up, and a clean message in its own
    segment afterwards is rewritten exactly (each segment is parsed from
    its start)."""
    import hostile as h
    load(module_path)
    t.flush()
    try:
        phone, server = _connect_warm(socks)
        got = bytearray()
        reading = threading.Event()
        reading.set()

        def reader():
            # the server reads as it comes, or its window closes
            while reading.is_set():
                try:
                    chunk = server.recv(1 << 20)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                got.extend(chunk)
        rx = threading.Thread(target=reader, daemon=True)
        rx.start()
        try:
            before = stats()
            seg = b""
            for d, m in h.stream_v6(RECORDS, seed=14):
                if d != h.OUT:
                    continue
                if len(seg) + len(m) > TOTAL:
                    _send_one_segment(phone, seg)
                    seg = b""
                seg += m
            _send_one_segment(phone, seg)
            # all of it acknowledged: the marker goes alone
            deadline = time.monotonic() + 60
            while t.unacked(phone) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not t.unacked(phone), (t.unacked(phone),
                                         delta(before, stats()))
            marker = request("OPTIONS", "hostilemark", 1, host=t.PHONE6,
                             proto="TCP", ruri="sip:avantelecom.avantele.com")
            want = to_public(marker, priv=t.PHONE6, pub=t.PUBLIC6)
            phone.sendall(marker)
            deadline = time.monotonic() + 30
            while not got.endswith(want) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert got.endswith(want), bytes(got[-len(want):])
            k = delta(before, stats())
            assert k.get("dropped", 0) == 0, k
            assert k["truncated"] + k.get("malformed", 0) <= k["seen"], k
            assert k["seen"] <= k["parsed"] + k["truncated"] + \
                k.get("malformed", 0) + k.get("tcp_resent", 0), k
        finally:
            reading.clear()
            rx.join(timeout=10)
            t.tcp_reset(phone, server)
    finally:
        t.flush()
        unload()


def _send_one_segment(phone, data):
    phone.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    phone.sendall(data)
    phone.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
