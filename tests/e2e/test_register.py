# SPDX-License-Identifier: GPL-2.0
"""The registration pinhole lives as long as the phone's own binding at the
registrar: the Contact of the 2xx that names the phone counts (not the
first one, which may be another device's), a 2xx without it (a
de-REGISTER answered with no binding left, RFC 3261 10.3) or a final error
removes the pinhole; a 401/407 challenge leaves it. (Before the fix the
first Contact, else Expires, else 3600 s was taken: `Expires: 0` answered
by a bare 200 OK left the pinhole with 3599 s.)"""
import re

import pytest

import topology as t
from conftest import expectations
from sipmsg import PUB, crlf, register

OTHER = "198.51.100.7:5060"     # another device of the same AOR


def answer(status, contacts=(), expires_hdr=None):
    reason = {200: "OK", 401: "Unauthorized", 403: "Forbidden",
              407: "Proxy Authentication Required"}[status]
    lines = [f"SIP/2.0 {status} {reason}",
             f"Via: SIP/2.0/UDP {PUB};branch=z9hG4bK1076223587290572529;"
             f"rport=5010;received={t.PUBLIC_IP}",
             'From: " " <sip:011@avantelecom.avantele.com:5060>;'
             "tag=2717716575",
             'To: " " <sip:011@avantelecom.avantele.com:5060>;tag=as1',
             "Call-ID: 20063242339186-62012442819438@192.168.0.31",
             "CSeq: 1 REGISTER"]
    lines += [f"Contact: {c}" for c in contacts]
    if expires_hdr is not None:
        lines.append(f"Expires: {expires_hdr}")
    lines.append("Content-Length: 0")
    return crlf("\n".join(lines)) + b"\r\n\r\n"


def pinhole_timeout():
    """Seconds left of the registration pinhole (dport 5010), or None."""
    for line in expectations().splitlines():
        if "dport=5010" in line:
            return int(line.split()[0])
    return None


@pytest.fixture
def registered(alg, socks):
    """The phone registered through the router; (phone, server, exchange)."""
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)

    def exchange(req, resp):
        phone.sendto(req, (t.SERVER_IP, 5060))
        server.recvfrom(65535)
        server.sendto(resp, (t.PUBLIC_IP, 5010))
        phone.recvfrom(65535)

    exchange(register(), answer(200, [f"<sip:011@{PUB}>;expires=3600"]))
    assert 3500 < pinhole_timeout() <= 3600
    return phone, server, exchange


def test_own_binding_counts_not_the_first(registered):
    _, _, exchange = registered
    exchange(register(120), answer(200, [
        f"<sip:011@{OTHER}>;expires=3600",
        f"<sip:011@{PUB}>;expires=120"]))
    assert 60 < pinhole_timeout() <= 120


def test_contact_expires_then_header_then_default(registered):
    _, _, exchange = registered
    exchange(register(300), answer(200, [f"<sip:011@{PUB}>"], 300))
    assert 240 < pinhole_timeout() <= 300


@pytest.mark.parametrize("resp", [
    pytest.param(answer(200), id="bare-200"),
    pytest.param(answer(200, [f"<sip:011@{OTHER}>;expires=3600"]),
                 id="only-other-binding"),
    pytest.param(answer(200, [f"<sip:011@{PUB}>;expires=0"]),
                 id="expires-0"),
    pytest.param(answer(403), id="403")])
def test_no_binding_left_removes_pinhole(registered, resp):
    _, _, exchange = registered
    exchange(register(0), resp)
    assert pinhole_timeout() is None, expectations()


@pytest.mark.parametrize("status", [401, 407])
def test_challenge_keeps_pinhole(registered, status):
    _, _, exchange = registered
    exchange(register(), answer(status))
    assert 3500 < pinhole_timeout() <= 3600, expectations()
    assert re.search(r"dport=5010", expectations())
