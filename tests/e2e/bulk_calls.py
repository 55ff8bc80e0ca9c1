# SPDX-License-Identifier: GPL-2.0
"""Many calls through the router of topology.py, for test_faults.py and the
in-tree unload reproducer: call i signals from 192.168.0.31:SIG+i to
212.19.6.1:5060 with an INVITE offering RTP on MEDIA+2i, and media flows
both ways between that port and the server's 212.19.6.1:SRV_MEDIA. The
`calls` fixture makes a Calls driver; Traffic keeps their media going."""
import os
import socket
import threading
import time

import pytest

import topology as t
from dialog import request, sdp, to_public

DEBUG_KERNEL = "debug" in os.uname().release
SIG, MEDIA, SRV_MEDIA = 40000, 20000, 7000

# the in-tree helper on UDP 5070, beside siphelper on 5060
INTREE_5070 = """table inet shp_intree {
  ct helper sip-udp { type "sip" protocol udp; }
  chain pre { type filter hook prerouting priority 0;
    udp dport 5070 ct helper set "sip-udp"; }
}"""


def bulk(ns, addr, ports, rcvbuf=None):
    """UDP sockets bound to addr:p for each p, all opened in one setns."""
    out = []
    with t.netns(ns):
        for p in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if rcvbuf:
                s.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)  # RCVBUFFORCE
            s.bind((addr, p))
            s.settimeout(10 if DEBUG_KERNEL else 3)
            out.append(s)
    return out


def drain(s):
    """Throw away what is queued on s."""
    s.setblocking(False)
    try:
        while True:
            s.recv(65535)
    except BlockingIOError:
        pass
    finally:
        s.settimeout(10 if DEBUG_KERNEL else 3)


class Calls:
    """n calls through the NAT: INVITE i from SIG+i offering MEDIA+2i."""

    def __init__(self, n, sig=SIG, media=MEDIA, srv_port=5060,
                 srv_media=SRV_MEDIA):
        self.n, self.sig_base, self.media_base = n, sig, media
        self.pub = t.PUBLIC_IP
        self.srv_port, self.srv_media_port = srv_port, srv_media
        self.sig = bulk(t.PHONE, t.PHONE_IP, range(sig, sig + n))
        self.rtp = bulk(t.PHONE, t.PHONE_IP,
                        [media + 2 * i for i in range(n)])
        self.srv, self.srv_media = bulk(t.SERVER, t.SERVER_IP,
                                        (srv_port, srv_media), 16 << 20)
        self.invites = [self.invite(i) for i in range(n)]

    def invite(self, i, cseq=1):
        return request("INVITE", f"fault-{self.sig_base}-{i}", cseq,
                       sdp(t.PHONE_IP, [("audio", self.media_base + 2 * i,
                                         "RTP/AVP 0")]),
                       port=self.sig_base + i)

    def public(self, i, msg):
        return to_public(msg, pub=self.pub, port=self.sig_base + i)

    def signal(self, msgs=None, batch=100):
        """Send msgs[i] (default the INVITEs) from call i; return
        {call: bytes received by the server}, checking each came from the
        call's public address:port."""
        msgs = msgs or self.invites
        got = {}
        for b in range(0, self.n, batch):
            idx = range(b, min(self.n, b + batch))
            for i in idx:
                self.sig[i].sendto(msgs[i], (t.SERVER_IP, self.srv_port))
            for _ in idx:
                data, src = self.srv.recvfrom(65535)
                assert src[0] == self.pub, src
                got[src[1] - self.sig_base] = data
        return got

    def setup(self):
        """Every INVITE arrives in its exact public form."""
        got = self.signal()
        wrong = [i for i in range(self.n)
                 if got.get(i) != self.public(i, self.invites[i])]
        assert not wrong, (len(wrong), wrong[:5],
                           got.get(wrong[0]) if wrong else None)

    def media(self, strict=True):
        """One RTP packet each way per call; all must arrive, from the
        right addresses (server -> public port -> phone, and back; not
        strict: any source at the phone, as the in-tree helper may
        source-NAT media)."""
        srv = (t.SERVER_IP, self.srv_media_port)
        for s in self.rtp + [self.srv_media]:
            drain(s)
        for i in range(self.n):
            self.srv_media.sendto(b"in%d" % i,
                                  (self.pub, self.media_base + 2 * i))
        for i, s in enumerate(self.rtp):
            data, src = s.recvfrom(64)
            assert data == b"in%d" % i and (src == srv or not strict), src
        for i, s in enumerate(self.rtp):
            s.sendto(b"out%d" % i, srv)
        got = {self.srv_media.recvfrom(64) for _ in range(self.n)}
        assert got == {(b"out%d" % i, (self.pub, self.media_base + 2 * i))
                       for i in range(self.n)}

    def close(self):
        for s in self.sig + self.rtp + [self.srv, self.srv_media]:
            s.close()


@pytest.fixture
def calls():
    made = []

    def make(*a, **kw):
        c = Calls(*a, **kw)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


class Traffic(threading.Thread):
    """The load a fault happens under: media both ways on every call and,
    every other round, each call's INVITE again (a re-INVITE: its pair is
    removed and made again), plus `extra(round)` if given. Send errors
    (an interface gone) are counted, not raised."""

    def __init__(self, c, sip=True, extra=None):
        super().__init__(daemon=True)
        self.c, self.sip, self.extra = c, sip, extra
        self.halt = threading.Event()
        self.rounds = self.sent = self.errors = 0

    def run(self):
        c = self.c
        while not self.halt.is_set():
            for i in range(c.n):
                try:
                    c.srv_media.sendto(b"bg", (c.pub, c.media_base + 2 * i))
                    c.rtp[i].sendto(b"bg",
                                    (t.SERVER_IP, c.srv_media_port))
                    if self.sip and self.rounds % 2:
                        c.sig[i].sendto(c.invites[i],
                                        (t.SERVER_IP, c.srv_port))
                    self.sent += 1
                except OSError:
                    self.errors += 1
                if self.halt.is_set():
                    break
            if self.extra:
                self.extra(self.rounds)
            self.rounds += 1

    def wait_rounds(self, n, timeout=600):
        end = time.monotonic() + timeout
        target = self.rounds + n
        while self.rounds < target:
            assert self.is_alive() and time.monotonic() < end
            time.sleep(0.05)

    def stop(self):
        self.halt.set()
        self.join(timeout=120)
        assert not self.is_alive()
        time.sleep(0.3)         # let queued packets land before draining
        for s in self.c.sig + self.c.rtp + [self.c.srv, self.c.srv_media]:
            drain(s)
