# SPDX-License-Identifier: GPL-2.0
"""A phone and its registrar as they behave over hours, for the stale-entry
scenarios (test_stale.py).

The phone REGISTERs every `register` seconds and sends a keepalive every
`keepalive` seconds: CRLF, or an OPTIONS request (which has a Via and a
Contact). Its requests are UDP transactions: sent again after 0.5, 1, 2,
4, 4... seconds (RFC 3261 timer E) until answered, and given up after
32 s. The registrar answers every request to the address it came from
(rport, as kamailio and asterisk do), remembers what it saw and can call
the phone at the Contact of its last REGISTER. Each runs in a thread, on
a socket opened in its namespace."""
import re
import socket
import threading
import time

import topology as t
from sipmsg import crlf

T1, T2, TIMER_F = 0.5, 4.0, 32.0


class _Peer:
    """A socket served by a thread: start() it, stop() it."""

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


class Phone(_Peer):
    def __init__(self, register=4.0, keepalive=1.0, options=False,
                 port=5010, registrar=(t.SERVER_IP, 5060)):
        self.register_every, self.keepalive = register, keepalive
        self.options, self.port, self.registrar = options, port, registrar
        self.sock = t.udp(t.PHONE, t.PHONE_IP, port, timeout=0.1)
        self.cseq = 0
        self.pending = None     # [message, next resend, interval, give up]
        self.invites = []       # (time, bytes) of INVITEs received
        super().__init__()

    def request(self, method):
        self.cseq += 1
        host = f"{t.PHONE_IP}:{self.port}"
        expires = f"Expires: {int(self.register_every * 2)}\n" \
            if method == "REGISTER" else ""
        return crlf(f"""
{method} sip:avantelecom.avantele.com SIP/2.0
Via: SIP/2.0/UDP {host};branch=z9hG4bK-ka-{self.cseq};rport
From: <sip:011@avantelecom.avantele.com>;tag=2717716575
To: <sip:011@avantelecom.avantele.com>
Call-ID: keepalive-{self.cseq}@{t.PHONE_IP}
CSeq: {self.cseq} {method}
Contact: <sip:011@{host}>
{expires}Content-Length: 0
""") + b"\r\n\r\n"

    def _send(self, data):
        try:
            self.sock.sendto(data, self.registrar)
        except OSError:
            pass        # no route during an outage: the phone keeps on

    def _begin(self, method, now):
        msg = self.request(method)
        self.pending = [msg, now + T1, T1, now + TIMER_F]
        self._send(msg)

    def _tick(self, now):
        if self.pending:
            msg, resend, interval, give_up = self.pending
            if now >= give_up:
                self.pending = None
            elif now >= resend:
                interval = min(2 * interval, T2)
                self.pending[1:3] = [now + interval, interval]
                self._send(msg)
        if now >= self._next_reg:
            self._next_reg = now + self.register_every
            self._next_ka = now + self.keepalive
            self._begin("REGISTER", now)
        elif now >= self._next_ka:
            self._next_ka = now + self.keepalive
            if self.options:
                if not self.pending:
                    self._begin("OPTIONS", now)
            else:
                self._send(b"\r\n\r\n")

    def _run(self):
        self._next_reg = time.monotonic()
        self._next_ka = self._next_reg + self.keepalive
        while not self._stop.is_set():
            self._tick(time.monotonic())
            try:
                data, _ = self.sock.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            if data.startswith(b"INVITE "):
                self.invites.append((time.monotonic(), data))
            elif data.startswith(b"SIP/2.0 ") and self.pending:
                cseq = re.search(rb"^CSeq:\s*(\d+)", data, re.M | re.I)
                if cseq and int(cseq.group(1)) == self.cseq:
                    self.pending = None


def _host(text, header):
    m = re.search(rf"^{header}:[^\r\n]*?(?:sip:[^@>\s]*@|UDP )([^;>\s]+)",
                  text, re.M | re.I)
    return m.group(1) if m else None


class Registrar(_Peer):
    def __init__(self, addr=t.SERVER_IP, port=5060, ns=t.SERVER):
        self.addr = addr
        self.sock = t.udp(ns, addr, port, timeout=0.1)
        # (time, method, source (ip, port), Via host:port, Contact host:port)
        self.requests = []
        super().__init__()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, src = self.sock.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            m = re.match(rb"([A-Z]+) sip:", data)
            if not m:
                continue        # keepalives, answers to our INVITEs
            text = data.decode(errors="replace")
            self.requests.append((time.monotonic(), m.group(1).decode(),
                                  src, _host(text, "Via"),
                                  _host(text, "Contact")))
            head = [ln for ln in text.split("\r\n")
                    if re.match(r"(Via|From|To|Call-ID|CSeq|Contact):", ln,
                                re.I)]
            head = [(ln + f";received={src[0]};rport={src[1]}").replace(
                ";rport;", ";") if ln.startswith("Via:") else ln
                for ln in head]
            resp = "\r\n".join(["SIP/2.0 200 OK", *head,
                                "Content-Length: 0", "", ""]).encode()
            try:
                self.sock.sendto(resp, src)
            except OSError:
                pass    # cannot answer a private source: no route to it

    def seen(self, since, public_ip, methods=("REGISTER",)):
        """True once a request of METHODS that arrived after SINCE came
        from PUBLIC_IP and names its own source in Via and Contact: what
        the registrar needs to reach the phone behind the NAT."""
        for when, method, src, via, contact in list(self.requests):
            own = f"{src[0]}:{src[1]}"
            if when >= since and method in methods and \
                    src[0] == public_ip and via == own and contact == own:
                return True
        return False

    def call(self, phone, wait=2.0):
        """INVITE to the Contact of the last REGISTER; True when the phone
        received it."""
        contact = next(c for _, m, _, _, c in reversed(self.requests)
                       if m == "REGISTER")
        host, port = contact.rsplit(":", 1)
        before = len(phone.invites)
        invite = crlf(f"""
INVITE sip:011@{contact} SIP/2.0
Via: SIP/2.0/UDP {self.addr}:5060;branch=z9hG4bK-call-{before}
From: <sip:100@avantelecom.avantele.com>;tag=caller
To: <sip:011@avantelecom.avantele.com>
Call-ID: incoming-{before}@{self.addr}
CSeq: 1 INVITE
Contact: <sip:100@{self.addr}:5060>
Content-Length: 0
""") + b"\r\n\r\n"
        self.sock.sendto(invite, (host, int(port)))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if len(phone.invites) > before:
                return True
            time.sleep(0.05)
        return False
