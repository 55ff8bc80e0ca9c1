# SPDX-License-Identifier: GPL-2.0
"""Hostile SIP through the router (docs/reliability.md). The generator of
hostile.py sends ≥ 20 000 mutated messages (HOSTILE_PACKETS for the long
`make stress` run) from the phone through the masquerade to the server,
back from the server to the phone, and to the router itself; 2 000 more
over IPv6 and 2 000 through the flow a registration expectation opens. Everything
that arrives must be exactly what the core says the module makes of it
(tests/hostile/shp_replay.c: untouched when the core cannot parse it, else
the core's rewrite), nothing may be lost, and the module's counters must
account for every datagram. The VM harness fails the run on any splat
(KASAN, lockdep, UBSAN, kmemleak on the debug kernel)."""
import errno
import json
import os
import shutil
import threading
import time

import pytest

import hostile as h
import topology as t
from conftest import expectations
from ctl import ctl  # noqa: F401 (fixture)
from dialog import request, response, to_private, to_public
from sipmsg import public_form, register, register_ok

PACKETS = int(os.environ.get("HOSTILE_PACKETS", "20000"))
# IPv6 and the registration expectation: a quarter of the named cases and
# random ones, the same generator.
SMALL = 2000
RESULTS = "/vm"     # the VM's output directory


def note(name, data):
    """Keep the measured figures next to the VM's logs (and print them)."""
    print(name, json.dumps(data, sort_keys=True))
    if os.path.isdir(RESULTS):
        with open(os.path.join(RESULTS, f"{name}.json"), "w") as f:
            json.dump(data, f, sort_keys=True, indent=1)


def n_expect(out):
    return sum(1 for line in out.splitlines() if line.strip())


def run_udp(records, path=None, dump=None):
    """h.run_udp() and its duration (the figures in the notes)."""
    start = time.monotonic()
    want, errors, sent = h.run_udp(records, dump, path)
    return want, errors, sent, round(time.monotonic() - start, 1)


def check_udp(name, run, n, exp, dump=None):
    """The figures of one UDP run: exact bytes, counters, bounded state."""
    want, errors, sent, secs = run
    k = h.stats()
    note(name, {"sent": sent, "seconds": secs, "kernel": k, "replay": want,
                "expectations_left": n_expect(exp)})
    assert sent >= n
    if dump and (want["lost"] or want["mismatch"]) and \
            os.path.isdir(RESULTS):
        shutil.copy(dump, RESULTS)
    assert want["lost"] == 0 and want["mismatch"] == 0, errors
    assert want["records"] == sent
    # Accounting: every UDP datagram with payload that reached the helper
    # is seen once and is either parsed or malformed (datagrams are never
    # truncated: -SHP_E_INCOMPLETE is a stream result); headers/SDP are
    # counted rewritten exactly when the core rewrites them; nothing is
    # dropped with malformed=accept.
    assert k["seen"] == sent
    assert k["parsed"] == want["parsed"]
    assert k["malformed"] == want["malformed"]
    assert k["parsed"] + k["malformed"] == k["seen"]
    assert k["rewritten_headers"] == want["rewritten_headers"]
    assert k["rewritten_sdp"] == want["rewritten_sdp"]
    assert k["truncated"] == 0 and k["dropped"] == 0
    assert want["malformed"] > 0 and want["rewritten_headers"] > 0 and \
        want["rewritten_sdp"] > 0
    # Bounded state: one signalling flow holds at most 2 * 16 media
    # expectations and one registration, whatever it was sent.
    assert k["expectations_created"] > 32
    assert n_expect(exp) <= 33, exp
    return k


needs_replay = pytest.mark.skipif(not os.access(h.REPLAY, os.X_OK),
                                  reason="shp_replay not built (make user)")


def no_unreplied_healing(ctl):
    """A flow of the stream may go 30 s without an answer in a loaded
    guest, and siphelper would then remake its entry and drop the packet
    that found it stale (test_stale.py): healing off, so that every
    datagram is accounted for by the parse and rewrite alone."""
    ctl.ok("set", "sip-unreplied-timeout", "0", netns=t.ROUTER)


@needs_replay
def test_udp_hostile_messages(alg, ctl):
    """Every datagram: exact bytes out, counted once, nothing lost."""
    no_unreplied_healing(ctl)
    h.reset_stats()
    # the records, kept in /vm when something is wrong (for
    # tests/hostile/shp_replay on the host); tmpfs first, 9p is slow
    dump = "/tmp/hostile-udp.records" if PACKETS <= 50000 else None
    run = run_udp(h.stream(PACKETS), dump=dump)
    check_udp("hostile-udp", run, PACKETS, expectations(), dump)


@needs_replay
def test_udp_hostile_messages_ipv6(alg, ctl):
    """The same over IPv6 (fd00::31 behind the ip6 masquerade, public
    2001:db8::166): addresses of another length than the public one, so
    rewrites change the message length."""
    no_unreplied_healing(ctl)
    h.reset_stats()
    run = run_udp(h.stream_v6(SMALL), h.v6_path())
    exp = t.nsexec(t.ROUTER, "conntrack -L expect -f ipv6",
                   check=False).stdout
    check_udp("hostile-udp6", run, SMALL, exp)


@needs_replay
def test_udp_hostile_through_registration(alg):
    """The phone registers; then the registrar's address sends hostile
    datagrams from another port to the phone's public address, which only
    the registration expectation admits (DNAT towards the phone), and the
    phone answers with hostile ones on that flow."""
    phone = t.udp(t.PHONE, t.PHONE_IP, 5010)
    server = t.udp(t.SERVER, t.SERVER_IP, 5060)
    outsider = t.udp(t.SERVER, t.SERVER_IP, 5071)
    try:
        # not registered yet: nothing gets in
        outsider.sendto(h.options_in(), (t.PUBLIC_IP, 5010))
        phone.sendto(register(), (t.SERVER_IP, 5060))
        _, src = server.recvfrom(65535)
        pub_port = src[1]
        server.sendto(register_ok(), (t.PUBLIC_IP, pub_port))
        phone.recvfrom(65535)
        phone.settimeout(1)
        with pytest.raises(TimeoutError):
            phone.recvfrom(65535)
    finally:
        for s in (phone, server, outsider):
            s.close()
    assert f"dport={pub_port}" in expectations()
    h.reset_stats()
    path = h.Path((t.PHONE, t.PHONE_IP, 5010),
                  (t.SERVER, t.SERVER_IP, 5070), t.PUBLIC_IP,
                  pub_port=pub_port)
    run = run_udp(h.stream_registered(SMALL), path)
    check_udp("hostile-registered", run, SMALL, expectations())
    # the flow was opened by the expectation: DNAT towards the phone
    flows = t.nsexec(t.ROUTER, "conntrack -L -p udp --sport 5070",
                     check=False).stdout
    assert f"dst={t.PUBLIC_IP}" in flows and f"src={t.PHONE_IP}" in flows, \
        flows


# The cut-at-every-position cases: who writes, over which family, and the
# message with the form the ALG must give it on the way.
def _v6(msg, to):
    pub = dict(priv=t.PHONE6, pub=t.PUBLIC6)
    return (msg, to(msg, **pub))


CUTS = {
    "phone-v4": lambda: (lambda m: (m, public_form(m)))(
        register().replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")),
    # the registrar's 200 OK towards the phone: the public address back
    # to the private one
    "server-v4": lambda: (lambda m: (m, to_private(m)))(
        register_ok().replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")),
    # every rewrite changes the length (fd00::31 <-> 2001:db8::166)
    "phone-v6": lambda: _v6(request(
        "REGISTER", "cut6", 1, host=t.PHONE6, proto="TCP",
        ruri="sip:avantelecom.avantele.com"), to_public),
    "server-v6": lambda: _v6(response(
        200, "cut6", "1 REGISTER",
        via=f"SIP/2.0/TCP [{t.PUBLIC6}]:5010;branch=z9hG4bKc;rport=5010",
        contact=f"<sip:011@[{t.PUBLIC6}]:5010>"), to_private),
}


def recv_one_of(s, want):
    """Read from stream s until what came is one of `want` (or is as long
    as the longest of them): the candidates differ before the shortest
    one ends."""
    n = max(len(w) for w in want)
    got = t.recv_exact(s, min(len(w) for w in want))
    while got not in want and len(got) < n:
        got += t.recv_exact(s, min([len(w) - len(got) for w in want
                                    if len(w) > len(got)]))
    return got


def exchange(tx, rx, data, want):
    """Write data on tx from a thread while reading rx (a message larger
    than both socket buffers cannot be written before the peer reads):
    what rx got, one of `want`. The 10 000-Via message is hundreds of KB:
    in a debug guest starved of host CPU the window can stay full and
    segments stall for seconds, so each write and read may wait up to a
    minute here."""
    timeouts = tx.gettimeout(), rx.gettimeout()
    tx.settimeout(60)
    rx.settimeout(60)
    failed = []

    def write():
        try:
            tx.sendall(data)
        except OSError as e:
            failed.append(e)
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        got = recv_one_of(rx, want)
    finally:
        writer.join(timeout=60)
        tx.settimeout(timeouts[0])
        rx.settimeout(timeouts[1])
    assert not writer.is_alive() and not failed, failed
    return got


@pytest.mark.parametrize("case", CUTS)
def test_tcp_cut_at_every_position(alg, socks, case):
    """A message cut into two segments at every position, then thousands
    of Via values (more than a segment and than the core tracks), then
    whole messages: the stream is never corrupted, a message comes out
    either untouched or in its exact rewritten form, and the counters add
    up. From the phone and from the server, over IPv4 and over IPv6
    (where each rewrite changes the stream's length)."""
    v6 = case.endswith("v6")
    phone, server, src = t.tcp_connect(
        socks, *((t.PHONE6, t.SERVER6) if v6 else (t.PHONE_IP, t.SERVER_IP)),
        timeout=5)
    assert src[:2] == ((t.PUBLIC6 if v6 else t.PUBLIC_IP), 5010)
    tx, rx = (server, phone) if case.startswith("server") else \
        (phone, server)
    msg, out = CUTS[case]()
    assert out != msg
    h.reset_stats()
    writes = 0
    try:
        for k in range(1, len(msg)):
            tx.sendall(msg[:k])
            tx.sendall(msg[k:])
            writes += 2
            # whole (the sender may coalesce the writes: then rewritten)
            # or untouched, never half-rewritten
            got = recv_one_of(rx, (msg, out))
            assert got in (msg, out), (k, got)
        first = msg.index(b"\r\nVia: ") + 2
        vias = b",".join(msg[first + 5:msg.index(b"\r\n", first)] +
                         b"%d" % i for i in range(10000))
        big = h.add_header(msg, b"Via: " + vias)
        for data, want in ((big, [big]), (msg, [msg, out]),
                           (msg + msg, [a + b for a in (msg, out)
                                        for b in (msg, out)]),
                           (msg, [out])):
            got = exchange(tx, rx, data, want)
            writes += 1
            assert got in want, (want, got)
        # the last message, sent on an idle connection, was rewritten
    finally:
        t.tcp_reset(phone, server)
    k = h.stats()
    note(f"hostile-tcp-cut-{case}", {"writes": writes, "kernel": k})
    # Each segment with payload yields parsed messages and ends at most
    # once incomplete (held, or truncated when it cannot be), a
    # continuation (truncated) or malformed; the cuts make held ones
    # (continuations are never malformed: docs/datapath.md, "Messages
    # split over segments"). A retransmission of a reassembled message is
    # replaced by what first left, unparsed (tcp_resent): a guest slowed
    # by a busy host retransmits.
    assert k["tcp_held"] > 0
    assert k["tcp_held"] + k["truncated"] + k["malformed"] <= k["seen"]
    assert k["seen"] <= k["parsed"] + k["tcp_held"] + k["truncated"] + \
        k["malformed"] + k["tcp_out_of_order"] + k["tcp_resent"]
    assert k["dropped"] == 0


ISN = 1000    # the raw client's initial sequence number


def raw_client(socks, sport):
    """A server listening on 5060 and a raw TCP client from the phone's
    SPORT (its kernel's RSTs dropped; the caller deletes table
    inet shp_raw)."""
    listener = socks(t.SERVER, t.SERVER_IP, 5060, t.tcp)
    listener.listen(1)
    t.nft(t.PHONE, h.RST_DROP % sport)
    return listener, h.RawTcp(t.PHONE, t.PHONE_IP, sport, t.SERVER_IP, 5060)


def handshake(c, listener):
    """SYN, SYN-ACK, ACK from the raw client c to the listening server:
    the accepted socket, the source address it saw, the server's ISN."""
    c.send(ISN, 0, h.SYN)
    sseq, _, _, _ = c.recv(h.SYN | h.ACK)
    c.send(ISN + 1, sseq + 1, h.ACK)
    server, src = listener.accept()
    server.settimeout(5)
    return server, src, sseq


def tcp_register(sport, pub_port):
    """A REGISTER over TCP from the phone's port SPORT, and its public
    form (the router's address, port PUB_PORT)."""
    priv = f"{t.PHONE_IP}:{sport}".encode()
    reg = register().replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP") \
        .replace(b"192.168.0.31:5010", priv)
    return reg, reg.replace(priv, f"{t.PUBLIC_IP}:{pub_port}".encode())


def test_tcp_overlapping_retransmissions(alg, socks):
    """Segments that overlap, retransmit a message whole after parts of it
    went through, and complete it from the middle: the server's stream
    holds, at every byte, the byte sent or its rewrite (the mapping keeps
    lengths, so no other byte may appear), and the connection still
    rewrites a message sent afterwards."""
    sport = 5012
    listener, c = raw_client(socks, sport)
    try:
        server, src, sseq = handshake(c, listener)
        isn = ISN
        assert src == (t.PUBLIC_IP, sport)
        reg, pub = tcp_register(sport, sport)
        stream, public = reg + reg, pub + pub
        n = len(reg)
        h.reset_stats()
        for a, b in ((0, 200), (100, 400), (0, n), (n - 50, n + 100),
                     (n + 60, 2 * n), (0, 2 * n), (n, 2 * n)):
            c.send(isn + 1 + a, sseq + 1, h.ACK, stream[a:b])
        got = t.recv_exact(server, len(stream))
        bad = [i for i in range(len(stream))
               if got[i] not in (stream[i], public[i])]
        assert not bad, (bad[:10], got)
        # still in step: a new message alone in a segment is rewritten
        c.send(isn + 1 + 2 * n, sseq + 1, h.ACK, reg)
        assert t.recv_exact(server, n) == pub
        k = h.stats()
        note("hostile-tcp-overlap", {"kernel": k})
        assert k["dropped"] == 0 and k["seen"] >= 8
        server.close()
    finally:
        c.close()
        t.nsexec(t.PHONE, "nft delete table inet shp_raw", check=False)


# The phone's port behind an SNAT to a public port of another width, so the
# rewrite changes the message length and seqadj moves the sequence numbers.
SNAT_PORT = """table ip shp_len {
  chain post { type nat hook postrouting priority 50;
    ip saddr %s tcp sport %d snat to %s:%d; }
}"""


@pytest.mark.parametrize("sport,nat_port", [(5013, 50130), (5014, 514)])
def test_tcp_overlapping_retransmissions_length_changes(alg, socks, sport,
                                                        nat_port):
    """Retransmissions when the rewrite makes each message one byte longer
    (or shorter) per address: a message retransmitted whole or in part at
    the correction point, the previous message retransmitted from before
    it, then a new message. The server's stream must be exactly the three
    public forms, each once: seqadj maps every retransmission onto bytes
    the server already has, and the new message onto the next ones."""
    t.nft(t.ROUTER, SNAT_PORT % (t.PHONE_IP, sport, t.PUBLIC_IP, nat_port))
    listener, c = raw_client(socks, sport)
    try:
        server, src, sseq = handshake(c, listener)
        assert src == (t.PUBLIC_IP, nat_port)
        reg, pub = tcp_register(sport, nat_port)
        assert len(pub) != len(reg)
        send_overlapping(c, sseq, reg, pub, server,
                         f"hostile-tcp-overlap-{nat_port}")
        server.close()
    finally:
        c.close()
        t.nsexec(t.PHONE, "nft delete table inet shp_raw", check=False)
        t.nsexec(t.ROUTER, "nft delete table ip shp_len", check=False)


@pytest.mark.parametrize("sport,nat_port", [(5015, None), (5016, 50160)])
def test_tcp_acknowledged_part_sent_again(alg, socks, sport, nat_port):
    """A message's first part sent again after the server acknowledged
    the whole message (a retransmission that crossed the ACK, as a
    loaded sender's timer makes): it passes as sent, counted tcp_resent
    and not truncated (as until stop 34), the server's stream holds the
    public form once, and the next message is rewritten. With nat_port
    the rewrite changes the length, so the ACKs cross a seqadj offset."""
    pub_port = nat_port or sport
    if nat_port:
        t.nft(t.ROUTER, SNAT_PORT % (t.PHONE_IP, sport, t.PUBLIC_IP,
                                     nat_port))
    listener, c = raw_client(socks, sport)
    try:
        server, src, sseq = handshake(c, listener)
        assert src == (t.PUBLIC_IP, pub_port)
        reg, pub = tcp_register(sport, pub_port)
        n, cut = len(reg), len(reg) // 2
        h.reset_stats()
        c.send(ISN + 1, sseq + 1, h.ACK, reg[:cut])        # held
        c.send(ISN + 1 + cut, sseq + 1, h.ACK, reg[cut:])  # completes it
        assert t.recv_exact(server, len(pub)) == pub
        # the server's ACK of all of it, in the phone's numbering
        while c.recv(h.ACK)[1] != ISN + 1 + n:
            pass
        c.send(ISN + 1, sseq + 1, h.ACK, reg[:cut])        # again
        # the server answers old data with an ACK at once
        while c.recv(h.ACK)[1] != ISN + 1 + n:
            pass
        k = h.stats()
        assert k.get("truncated", 0) == 0, k
        assert k["tcp_held"] == 1 and k["tcp_resent"] == 1, k
        c.send(ISN + 1 + n, sseq + 1, h.ACK, reg)
        assert t.recv_exact(server, len(pub)) == pub
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.recv(1)      # nothing else reached the server
        server.close()
    finally:
        c.close()
        t.nsexec(t.PHONE, "nft delete table inet shp_raw", check=False)
        t.nsexec(t.ROUTER, "nft delete table ip shp_len", check=False)


def send_overlapping(raw, peer_isn, msg, out, rx, name):
    """Three copies of MSG from the RAW end (its ISN is ISN) as the
    segments [0,n) [0,n) [0,200) [n,2n) [n,2n) [n,n+150) [0,n) [2n,3n)
    (a retransmission at the correction point, a prefix, the next
    message, its retransmission and prefix, the previous message again, a
    new message): RX must read exactly three times OUT, the counters 8
    segments, 6 rewritten, 2 incomplete (truncated, or tcp_resent once
    the server's ACK of them has passed). Figures in NAME.json."""
    n = len(msg)
    stream = msg * 3
    h.reset_stats()
    for a, b in ((0, n), (0, n), (0, 200), (n, 2 * n), (n, 2 * n),
                 (n, n + 150), (0, n), (2 * n, 3 * n)):
        raw.send(ISN + 1 + a, peer_isn + 1, h.ACK, stream[a:b])
    got = t.recv_exact(rx, 3 * len(out))
    assert got == out * 3, got
    rx.settimeout(1)
    with pytest.raises(TimeoutError):
        extra = rx.recv(65535)
        pytest.fail(f"more bytes than sent: {extra!r}")
    k = h.stats()
    note(name, {"kernel": k})
    assert k["dropped"] == 0 and k["seen"] == 8, k
    assert k["rewritten_headers"] == 6, k
    assert k["truncated"] + k["tcp_resent"] == 2, k


def overlap_message(case, port):
    """What the raw end sends in CASE on a connection from the phone's
    PORT, and the form the ALG must give it."""
    v6 = case.endswith("v6")
    priv, pub = (t.PHONE6, t.PUBLIC6) if v6 else (t.PHONE_IP, t.PUBLIC_IP)
    if case.startswith("phone"):
        m = request("REGISTER", "ovl", 1, host=priv, port=port, proto="TCP",
                    ruri="sip:avantelecom.avantele.com")
        return m, to_public(m, priv=priv, pub=pub, port=port)
    hp = f"[{pub}]:{port}" if v6 else f"{pub}:{port}"
    m = response(200, "ovl", "1 REGISTER",
                 via=f"SIP/2.0/TCP {hp};branch=z9hG4bKo;rport={port}",
                 contact=f"<sip:011@{hp}>")
    return m, to_private(m, priv=priv, pub=pub, port=port)


@pytest.mark.parametrize("case", ["phone-v6", "server-v4", "server-v6"])
def test_tcp_overlapping_retransmissions_both_ways(alg, socks, case):
    """The retransmissions of the length-change test from the phone over
    IPv6 (each REGISTER grows: fd00::31 -> 2001:db8::166) and from the
    server to the phone over IPv4 (same length) and IPv6 (each 200 OK
    shrinks): the receiver's stream is exactly the three rewritten
    messages, each once, and nothing more."""
    v6 = case.endswith("v6")
    phone_ip, server_ip, pub_ip = (t.PHONE6, t.SERVER6, t.PUBLIC6) if v6 \
        else (t.PHONE_IP, t.SERVER_IP, t.PUBLIC_IP)
    port = 5015
    raw_ns = t.PHONE if case.startswith("phone") else t.SERVER
    t.nft(raw_ns, h.RST_DROP % (port if raw_ns == t.PHONE else 5060))
    raw = None
    try:
        if raw_ns == t.PHONE:
            listener = socks(t.SERVER, server_ip, 5060, t.tcp)
            listener.listen(1)
            raw = h.RawTcp(t.PHONE, phone_ip, port, server_ip, 5060)
            rx, src, peer_isn = handshake(raw, listener)
            assert src[:2] == (pub_ip, port)
        else:
            raw = h.RawTcp(t.SERVER, server_ip, 5060)
            rx = socks(t.PHONE, phone_ip, port, t.tcp)
            rx.setblocking(False)
            assert rx.connect_ex((server_ip, 5060)) == errno.EINPROGRESS
            addr, sport, peer_isn = raw.accept(ISN)
            assert (addr, sport) == (pub_ip, port)
            rx.settimeout(5)
        msg, out = overlap_message(case, port)
        assert out != msg and (len(out) != len(msg)) == v6
        assert len(msg) > 200
        send_overlapping(raw, peer_isn, msg, out, rx,
                         f"hostile-tcp-overlap-{case}")
        rx.close()
    finally:
        if raw:
            raw.close()
        t.nsexec(raw_ns, "nft delete table inet shp_raw", check=False)
