# SPDX-License-Identifier: GPL-2.0
"""Hostile SIP for test_hostile.py (and `make stress`): a deterministic
generator of mutated seed messages, the run that pushes them through the
router of topology.py, and the check of what came out against the core
(tests/hostile/shp_replay.c).

Seeds: the e2e messages of sipmsg.py and the Kamailio corpus in
../shared/corpus/kamailio-sip (when present beside the repository). The
mutations follow docs/reliability.md: truncation at every byte, giant
headers, thousands of Via values, NUL bytes, invalid UTF-8, lying
Content-Length, huge and negative numbers, broken IPv6 literals, SDP with
1000 m= lines, a=rtcp and c= naming other hosts, and random byte-level
damage (flips, splices, duplicated or dropped lines) to fill the count."""
import glob
import os
import random
import re
import socket
import struct
import subprocess

import topology as t
from stats import reset_stats, stats  # noqa: F401 (h.stats())
from sipmsg import crlf, invite, register, register_ok, bye

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CORPUS = os.path.join(REPO, "..", "shared", "corpus", "kamailio-sip")
REPLAY = os.path.join(REPO, "build", "user", "tests", "hostile",
                      "shp_replay")
MAX_UDP = 65000         # below the IPv4 UDP payload limit (65507)
FRAG = 1400             # datagrams above this are fragmented (MTU 1500)

# Record directions, as tests/hostile/shp_replay.c reads them.
OUT, IN, LOCAL = 0, 1, 2


def ok_invite():
    """The server's 200 OK with SDP, inbound."""
    body = crlf(f"""
v=0
o=srv 1 1 IN IP4 {t.SERVER_IP}
s=-
c=IN IP4 {t.SERVER_IP}
t=0 0
m=audio 30000 RTP/AVP 8
a=rtcp:30001
""") + b"\r\n"
    return crlf(f"""
SIP/2.0 200 OK
Via: SIP/2.0/UDP {t.PUBLIC_IP}:5010;branch=z9hG4bK1841331866303606934;rport=5010
From: " " <sip:011@avantelecom.avantele.com:5060>;tag=908623127
To: "**43" <sip:*43@avantelecom.avantele.com;user=phone>;tag=srv1
Call-ID: 1021667421783-273216449350@192.168.0.31
CSeq: 1 INVITE
Contact: <sip:*43@{t.SERVER_IP}:5060>
Content-Type: application/sdp
Content-Length: {len(body)}
""") + b"\r\n\r\n" + body


def options_in():
    return crlf(f"""
OPTIONS sip:011@{t.PUBLIC_IP}:5010 SIP/2.0
Via: SIP/2.0/UDP {t.SERVER_IP}:5060;branch=z9hG4bKo1
From: <sip:ping@{t.SERVER_IP}>;tag=1
To: <sip:011@{t.PUBLIC_IP}:5010>
Call-ID: opt1@{t.SERVER_IP}
CSeq: 1 OPTIONS
Content-Length: 0
""") + b"\r\n\r\n"


def rtcp_invite():
    """The seed INVITE with an a=rtcp line (rewritten port and address)."""
    return with_body(invite(), invite().split(b"\r\n\r\n", 1)[1] +
                     f"a=rtcp:10007 IN IP4 {t.PHONE_IP}\r\n".encode())


def corpus():
    """The Kamailio corpus as stored (LF) and as CRLF."""
    out = []
    for path in sorted(glob.glob(os.path.join(CORPUS, "*.sip"))):
        with open(path, "rb") as f:
            data = f.read()
        out.append(data)
        out.append(re.sub(rb"\r?\n", b"\r\n", data))
    return out


def with_body(msg, body, clen=None):
    """MSG with its body replaced and Content-Length set (to CLEN if
    given: a lie)."""
    head = msg.split(b"\r\n\r\n", 1)[0]
    head = re.sub(rb"Content-Length: [^\r]*", b"Content-Length: " +
                  str(len(body) if clen is None else clen).encode(), head)
    return head + b"\r\n\r\n" + body


def add_header(msg, line):
    first, rest = msg.split(b"\r\n", 1)
    return first + b"\r\n" + line + b"\r\n" + rest


def sdp_media(n, port=10006, extra=b""):
    lines = [f"v=0\r\no=011 1 1 IN IP4 {t.PHONE_IP}\r\ns=-\r\n"
             f"c=IN IP4 {t.PHONE_IP}\r\nt=0 0\r\n".encode()]
    for i in range(n):
        lines.append(f"m=audio {port + 2 * i} RTP/AVP 8\r\n".encode() + extra)
    return b"".join(lines)


def structured():
    """The named hostile cases: (direction, message)."""
    reg, inv, by = register(), invite(), bye()
    rinv = rtcp_invite()
    cases = []
    # truncation at every byte of the e2e seeds (both directions)
    for m in (reg, inv, by, rinv):
        cases += [(OUT, m[:k]) for k in range(1, len(m) + 1)]
    for m in (register_ok(), ok_invite(), options_in()):
        cases += [(IN, m[:k]) for k in range(1, len(m) + 1)]
    # giant headers, one or many
    for size in (1000, 8000, 30000, 60000):
        cases.append((OUT, add_header(reg, b"X-Big: " + b"a" * size)))
        cases.append((OUT, add_header(inv, b"Subject: " + b"\xff" * size)))
        cases.append((IN, add_header(register_ok(), b"X-Big: " + b"b" * size)))
    cases.append((OUT, add_header(reg, b"\r\n".join(
        b"X-H%d: v" % i for i in range(5000)))))
    # thousands of Via values: in one header, or one per line
    for n in (63, 64, 65, 1000, 4500):
        vias = b",".join(b"SIP/2.0/UDP 192.168.0.31:5010;branch=z%d" % i
                         if i % 2 else b"SIP/2.0/UDP 1.2.3.%d" % (i % 250)
                         for i in range(n))
        m = add_header(reg, b"Via: " + vias)
        if len(m) <= MAX_UDP:
            cases.append((OUT, m))
        lines = b"\r\n".join(b"v: SIP/2.0/UDP %s:5010" %
                             t.PHONE_IP.encode() for _ in range(n))
        m = add_header(inv, lines)
        if len(m) <= MAX_UDP:
            cases.append((OUT, m))
    # NUL bytes and invalid UTF-8 everywhere that matters
    bad = (b"\0", b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
           b"\xe2\x82", b"\xfe\xff")
    for m in (reg, inv):
        for pat in (t.PHONE_IP.encode(), b"sip:", b"Via", b"SIP/2.0",
                    b":5010", b"Content-Length", b"\r\n\r\n", b"m=audio",
                    b"c=IN", b"Call-ID"):
            for b in bad:
                i = m.find(pat)
                if i >= 0:
                    cases.append((OUT, m[:i] + b + m[i:]))
                    cases.append((OUT, m[:i + len(pat) // 2] + b +
                                  m[i + len(pat) // 2:]))
    # Content-Length lying both ways, and numbers out of range
    body = inv.split(b"\r\n\r\n", 1)[1]
    for clen in (0, 1, len(body) - 1, len(body) + 1, len(body) + 1000,
                 65535, 65536, 4294967295, 4294967296, 10 ** 30):
        cases.append((OUT, with_body(inv, body, clen)))
    for v in (b"-1", b"", b"abc", b"0x10", b" 5", b"+1", b"1 2",
              b"0" * 40 + b"1", b"-0", b"1e3"):
        cases.append((OUT, inv.replace(b"Content-Length: %d" % len(body),
                                       b"Content-Length: " + v)))
    nums = (b"0", b"-1", b"65535", b"65536", b"99999", b"4294967295",
            b"4294967296", b"18446744073709551616", b"1" * 100, b"-", b"+5")
    for v in nums:
        cases.append((OUT, reg.replace(b"CSeq: 1 ", b"CSeq: " + v + b" ")))
        cases.append((OUT, reg.replace(b"Expires: 3600", b"Expires: " + v)))
        cases.append((OUT, reg.replace(b":5010;branch", b":" + v + b";branch")))
        cases.append((OUT, reg.replace(b"rport", b"rport=" + v)))
        cases.append((OUT, inv.replace(b"m=audio 10006", b"m=audio " + v)))
        cases.append((OUT, inv.replace(b"m=audio 10006",
                                       b"m=audio 10006/" + v)))
        cases.append((OUT, rinv.replace(b"a=rtcp:10007", b"a=rtcp:" + v)))
        cases.append((IN, register_ok().replace(b"expires=3600",
                                                b"expires=" + v)))
        cases.append((IN, register_ok().replace(b"200 OK", v + b" OK")))
    # broken IPv6 literals where the phone's address would be
    for lit in (b"[fd00::31", b"fd00::31]", b"[::::]", b"[fd00::31]:",
                b"[1:2:3:4:5:6:7:8:9]", b"[::ffff:192.168.0.31]",
                b"[fd00::31%eth0]", b"[]", b"[" + b"f" * 300 + b"]",
                b"[fd00::31]:99999", b"[1::2::3]", b"[:::1]",
                b"[g::1]", b"[fd00:0:0:0:0:0:0:31]"):
        cases.append((OUT, reg.replace(b"192.168.0.31:5010", lit, 1)))
        cases.append((OUT, reg.replace(b"192.168.0.31:5010", lit + b":5010")))
        cases.append((OUT, inv.replace(b"IN IP4 192.168.0.31",
                                       b"IN IP6 " + lit.strip(b"[]:"))))
    # SDP with many m= lines (the core tracks 16)
    for n in (15, 16, 17, 100, 1000):
        cases.append((OUT, with_body(inv, sdp_media(n))))
        cases.append((OUT, with_body(inv, sdp_media(
            n, extra=b"a=rtcp:9 IN IP4 203.0.113.9\r\n"))))
    # a=rtcp and c= pointing anywhere
    for tail in (b"a=rtcp:22", b"a=rtcp:0", b"a=rtcp:65535",
                 b"a=rtcp:53 IN IP4 192.168.0.1",
                 b"a=rtcp:10007 IN IP4 192.168.0.32",
                 b"a=rtcp:10007 IN IP6 fd00::31",
                 b"a=rtcp:10007 IN IP4 203.0.113.7",
                 b"a=rtcp:", b"a=rtcp:abc", b"a=rtcp:10007 IN IP4",
                 b"a=rtcp:10007 IN IP4 999.1.1.1"):
        cases.append((OUT, with_body(inv, body + tail + b"\r\n")))
    for host in (t.PHONE2_IP, t.LAN_IP, "127.0.0.1", t.SERVER_IP,
                 t.PUBLIC_IP, "0.0.0.0", "255.255.255.255", "224.0.0.1"):
        cases.append((OUT, inv.replace(b"c=IN IP4 192.168.0.31",
                                       b"c=IN IP4 " + host.encode())))
    # messages towards the router itself (no NAT: parsed, never changed)
    for m in (reg, inv, b"\0" * 100, b"\xff" * 1000, reg[:100]):
        cases.append((LOCAL, m))
    return cases


def mutate(rng, m, seeds):
    """One random byte-level mutation of M."""
    op = rng.randrange(10)
    n = len(m)
    if op == 0 and n:                       # flip bytes
        b = bytearray(m)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(n)] = rng.randrange(256)
        return bytes(b)
    if op == 1:                             # insert a nasty token
        tok = rng.choice((b"\0", b"\r", b"\n", b"\r\n", b":", b";", b",",
                          b"<", b">", b"[", b"]", b"\"", b"\\", b"\xff",
                          b" ", b"\t", b"\r\n ", b"=", b"%00",
                          b"Content-Length: 5\r\n", b"v: SIP/2.0/UDP a\r\n",
                          b"\r\n\r\n", b"m=audio 1 RTP/AVP 0\r\n"))
        i = rng.randint(0, n)
        return m[:i] + tok * rng.randint(1, 4) + m[i:]
    if op == 2 and n:                       # delete a range
        i = rng.randrange(n)
        return m[:i] + m[i + rng.randint(1, 64):]
    if op == 3 and n:                       # duplicate a range
        i = rng.randrange(n)
        j = min(n, i + rng.randint(1, 256))
        return m[:j] + m[i:j] * rng.randint(1, 8) + m[j:]
    if op == 4:                             # splice two messages
        o = rng.choice(seeds)
        return m[:rng.randint(0, n)] + o[rng.randint(0, len(o)):]
    lines = m.split(b"\n")
    if op == 5 and len(lines) > 2:          # drop, double or swap lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        k = rng.randrange(3)
        if k == 0:
            del lines[i]
        elif k == 1:
            lines.insert(i, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if op == 6:                             # line ends: LF, CR, folding
        k = rng.randrange(3)
        if k == 0:
            return m.replace(b"\r\n", b"\n")
        if k == 1:
            return m.replace(b"\r\n", b"\r")
        i = rng.randrange(len(lines))
        lines[i] = lines[i] + b"\r\n \t"
        return b"\n".join(lines)
    if op == 7:                             # numbers out of range
        return re.sub(rb"\d+", lambda _: rng.choice(
            (b"0", b"65536", b"99999999999", b"-1", b"4294967296")), m,
            count=rng.randint(1, 5))
    if op == 8:                             # case and compact forms
        return rng.choice((m.lower(), m.upper(), m.replace(b"Via:", b"v:")
                           .replace(b"Content-Length:", b"l:")))
    return m + rng.choice((b"\r\n", b"garbage", b"\0" * 8, m[:100]))


def stream(n, seed=7, every=1):
    """At least N records (direction, payload): the structured cases (every
    EVERY-th one), then random mutations of the seeds. Deterministic for a
    seed; generated lazily, so a million records take no memory."""
    rng = random.Random(seed)
    out_seeds = [register(), invite(), bye(), rtcp_invite()] + corpus()
    in_seeds = [register_ok(), ok_invite(), options_in()]
    count = 0
    for d, m in structured()[::every]:
        if m:
            count += 1
            yield d, m[:MAX_UDP]
    while count < n:
        if rng.random() < 0.2:
            d, pool = IN, in_seeds
        else:
            d, pool = OUT, out_seeds
        m = rng.choice(pool)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            m = mutate(rng, m, pool)
        if m:
            count += 1
            yield d, m[:MAX_UDP]


def generate(n, seed=7):
    return list(stream(n, seed))


V6_NOFRAG = 1100    # see to_v6()


def to_v6(m):
    """Record payload M with the topology's IPv4 addresses in IPv6 form:
    SDP "IN IP4 a" becomes "IN IP6 a6", any other a becomes "[a6]". A
    datagram the phone would send unfragmented is cut to V6_NOFRAG bytes:
    the rewrite lengthens it (fd00::31 -> 2001:db8::166, at most
    SHP_MAX_EDITS times) and an IPv6 router never fragments a packet that
    arrived whole, so one near the MTU would be lost (Packet Too Big)."""
    for v4, v6 in ((t.PUBLIC_IP, t.PUBLIC6), (t.PHONE_IP, t.PHONE6),
                   (t.SERVER_IP, t.SERVER6)):
        m = m.replace(b"IN IP4 " + v4.encode(), b"IN IP6 " + v6.encode())
        m = m.replace(v4.encode(), b"[" + v6.encode() + b"]")
    if V6_NOFRAG < len(m) <= 1500 - 48:
        m = m[:V6_NOFRAG]
    return m[:MAX_UDP]


def stream_v6(n, seed=7):
    """N records of stream() in IPv6 form (a quarter of the named cases)."""
    for d, m in stream(n, seed, every=4):
        yield d, to_v6(m)


def stream_registered(n, seed=7):
    """N records for the flow a registration expectation opens (Path
    REGISTERED): it starts with the registrar's OPTIONS (the first packet
    must come from outside to enter through the expectation), and nothing
    goes to the router itself."""
    yield IN, options_in()
    for d, m in stream(n, seed, every=4):
        if d != LOCAL:
            yield d, m


class Path:
    """Where run_udp() sends the records: OUT from PHONE (ns, addr, port)
    to PEER (ns, addr, port), IN from PEER to the phone's public address
    PUB (port: PUB_PORT, or learnt from the first OUT datagram), LOCAL from
    LOCAL (ns, addr, port) to PUB:5060. FIRST: the message sent first when
    the public port is still unknown."""

    def __init__(self, phone, peer, pub, local=None, pub_port=None,
                 first=None):
        self.phone, self.peer, self.pub, self.local = phone, peer, pub, local
        self.pub_port, self.first = pub_port, first or register()


def v4_path():
    return Path((t.PHONE, t.PHONE_IP, 5010), (t.SERVER, t.SERVER_IP, 5060),
                t.PUBLIC_IP, (t.SERVER, t.SERVER_IP, 5099))


def v6_path():
    return Path((t.PHONE, t.PHONE6, 5010), (t.SERVER, t.SERVER6, 5060),
                t.PUBLIC6, (t.SERVER, t.SERVER6, 5099),
                first=to_v6(register()))


# --- running it through the router ---

netns = t.netns


SO_SNDBUFFORCE, SO_RCVBUFFORCE = 32, 33     # not in Python 3.11's socket


def _udp(ns, addr, port):
    s = t.udp(ns, addr, port, timeout=5.0)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, 16 << 20)
    return s


def run_udp(records, dump=None, path=None, batch_bytes=2 << 20,
            batch_len=400):
    """Send RECORDS (an iterable of (direction, payload)) through the
    router along PATH (default v4_path(): the phone 192.168.0.31:5010 to
    the server 212.19.6.1:5060 through the masquerade, back to the phone's
    public address, and from 212.19.6.1:5099 to the router's own
    212.19.6.166:5060). What arrives is streamed with what was sent into
    shp_replay (and into the file DUMP if given). Returns shp_replay's
    counts, its complaints and the number of records sent."""
    path = path or v4_path()
    phone = _udp(*path.phone)
    server = _udp(*path.peer)
    prober = _udp(*path.local) if path.local else None
    priv_ip, priv_port = path.phone[1], path.phone[2]
    peer = path.peer[1:]
    rep = subprocess.Popen([REPLAY, priv_ip, path.pub],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    dumpf = open(dump, "wb", buffering=1 << 20) if dump else None
    pub_port = path.pub_port
    sent = 0
    cpus = sorted(os.sched_getaffinity(0))
    nbatch = 0
    it = iter(records)
    pending = next(it, None)
    try:
        while pending is not None:
            # veth queues a packet on the sending CPU's backlog: a sender
            # that migrates reorders its datagrams. Pin each batch to one
            # CPU, taking the CPUs in turn (each CPU's scratch is used).
            os.sched_setaffinity(0, {cpus[nbatch % len(cpus)]})
            nbatch += 1
            batch, size = [], 0
            while pending is not None and len(batch) < batch_len and \
                    size < batch_bytes:
                # IP fragments of a big datagram may be overtaken by the
                # small ones behind it: a fragmented one goes alone.
                big = len(pending[1]) > FRAG
                if big and batch:
                    break
                batch.append(pending)
                size += len(pending[1])
                pending = next(it, None)
                if big:
                    break
            if pub_port is None and batch[0][0] != OUT:
                batch.insert(0, (OUT, path.first))
            got = {OUT: [], IN: []}
            want = {OUT: 0, IN: 0}
            for d, m in batch:
                if d == OUT:
                    phone.sendto(m, peer)
                elif d == IN:
                    server.sendto(m, (path.pub, pub_port or priv_port))
                else:
                    prober.sendto(m, (path.pub, 5060))
                if d in want:
                    want[d] += 1
                if d == OUT and pub_port is None:
                    data, src = server.recvfrom(65535)
                    pub_port = src[1]
                    got[OUT].append(data)
            for d, s in ((OUT, server), (IN, phone)):
                try:
                    while len(got[d]) < want[d]:
                        got[d].append(s.recvfrom(65535)[0])
                except TimeoutError:
                    pass
            pos = {OUT: 0, IN: 0}
            for d, m in batch:
                r = None
                if d in pos:
                    if pos[d] < len(got[d]):
                        r = got[d][pos[d]]
                    pos[d] += 1
                rec = record(d, m, r, priv_port, pub_port)
                rep.stdin.write(rec)
                if dumpf:
                    dumpf.write(rec)
            sent += len(batch)
    finally:
        os.sched_setaffinity(0, cpus)
        for s in (phone, server, prober):
            if s:
                s.close()
        if dumpf:
            dumpf.close()
        out, err = rep.communicate()
    assert rep.returncode in (0, 1), err.decode(errors="replace")
    counts = dict(kv.split("=") for kv in out.decode().split())
    return {k: int(v) for k, v in counts.items()}, \
        err.decode(errors="replace"), sent


def record(d, sent, got, priv_port, pub_port):
    rlen = 0xffffffff if got is None else len(got)
    return struct.pack("<BBHHII", d, 0, priv_port, pub_port or priv_port,
                       len(sent), rlen) + sent + (got or b"")


# --- a raw TCP end, for segments a socket never sends (overlaps) ---

SYN, RST, ACK = 0x02, 0x04, 0x10
RST_DROP = """table inet shp_raw {
  chain out { type filter hook output priority 0;
    tcp sport %d tcp flags rst drop; }
}"""


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class RawTcp:
    """TCP segments with any sequence number and payload from SRC:SPORT in
    netns NS, IPv4 or IPv6 (the kernel there must not answer with RST:
    RST_DROP). The peer is DST:DPORT, or (accept()) whoever sends the
    next SYN to SPORT."""

    def __init__(self, ns, src, sport, dst=None, dport=None):
        self.v6 = ":" in src
        with netns(ns):
            self.s = socket.socket(
                socket.AF_INET6 if self.v6 else socket.AF_INET,
                socket.SOCK_RAW, socket.IPPROTO_TCP)
        self.s.bind((src, 0))
        self.s.settimeout(5)
        self.src, self.sport, self.dst, self.dport = src, sport, dst, dport

    def _pseudo(self, length):
        if self.v6:
            return socket.inet_pton(socket.AF_INET6, self.src) + \
                socket.inet_pton(socket.AF_INET6, self.dst) + \
                struct.pack("!I3xB", length, 6)
        return socket.inet_aton(self.src) + socket.inet_aton(self.dst) + \
            struct.pack("!BBH", 0, 6, length)

    def send(self, seq, ack, flags, payload=b""):
        hdr = struct.pack("!HHIIBBHHH", self.sport, self.dport,
                          seq & 0xffffffff, ack & 0xffffffff, 5 << 4, flags,
                          65535, 0, 0)
        c = _csum(self._pseudo(len(hdr) + len(payload)) + hdr + payload)
        self.s.sendto(hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload,
                      (self.dst, 0))

    def _next(self, want):
        """The next segment to SPORT (from the peer, once there is one)
        with all flags in WANT: (source address, sport, seq, ack, flags,
        payload). IPv4 raw sockets return the IP header, IPv6 ones not."""
        while True:
            data, addr = self.s.recvfrom(65535)
            ihl = 0 if self.v6 else (data[0] & 15) * 4
            sp, dp, seq, ack, off, flags = struct.unpack_from(
                "!HHIIBB", data, ihl)
            if dp == self.sport and flags & want == want and \
                    (self.dport is None or
                     (sp == self.dport and addr[0] == self.dst)):
                return addr[0], sp, seq, ack, flags, \
                    data[ihl + (off >> 4) * 4:]

    def recv(self, want):
        """The next segment from the peer with all flags in WANT:
        (seq, ack, flags, payload)."""
        return self._next(want)[2:]

    def accept(self, isn):
        """Answer the next SYN to SPORT with a SYN-ACK of sequence number
        ISN and wait for the handshake's ACK: the peer's (address, port,
        ISN)."""
        self.dst, self.dport, peer_isn, _, _, _ = self._next(SYN)
        self.send(isn, peer_isn + 1, SYN | ACK)
        self.recv(ACK)
        return self.dst, self.dport, peer_isn

    def close(self):
        self.s.close()
