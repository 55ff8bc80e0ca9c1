# SPDX-License-Identifier: GPL-2.0
"""The call policy (kmod/policy.c), every knob off by default: calls per
namespace and per source address, new calls' INVITEs and REGISTERs a
second per source, and requests with a method siphelper does not know.
What it refuses is dropped and counted by reason, never answered."""
import pytest

import topology as t
from ctl import ctl  # noqa: F401  (fixture)
from dialog import request, response, sdp, to_private, to_public
from sipmsg import register
from stats import delta, stats

pytestmark = pytest.mark.siphelper_only

SRV = (t.SERVER_IP, 5060)
PUB = (t.PUBLIC_IP, 5010)


def invite(call, host=t.PHONE_IP, cseq=1):
    return request("INVITE", call, cseq, sdp(host, [("audio", 10006,
                                                     "RTP/AVP 0")]),
                   host=host)


def passes(src, dst_sock, msg, dst=SRV):
    """Does msg from src reach dst_sock? (a refusal is a silent drop)"""
    src.sendto(msg, dst)
    dst_sock.settimeout(0.5)
    try:
        dst_sock.recvfrom(65535)
        return True
    except TimeoutError:
        return False


@pytest.fixture
def ends(socks):
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    return phone, server


def test_call_limit(alg, ends, ctl):
    """sip-call-limit 2: the third call's INVITE is dropped, a re-INVITE
    of a call up passes, and a call that ends frees its place."""
    ctl.ok("set", "sip-call-limit", "2", netns=t.ROUTER)
    phone, server = ends
    before = stats()
    assert passes(phone, server, invite("lim1"))
    assert passes(phone, server, invite("lim2"))
    assert not passes(phone, server, invite("lim3"))
    assert not passes(phone, server, invite("lim3"))   # its retransmission
    assert passes(phone, server, invite("lim1", cseq=2))
    d = delta(before, stats())
    assert d.get("policy_call_limit") == 2 and d.get("dropped") == 2, d
    server.sendto(response(486, "lim2"), PUB)
    assert phone.recvfrom(65535)[0] == to_private(response(486, "lim2"))
    assert passes(phone, server, invite("lim3"))


def test_source_call_limit(alg, socks, ends, ctl):
    """sip-source-call-limit 1: a phone's second call is dropped, another
    phone's first passes."""
    ctl.ok("set", "sip-source-call-limit", "1", netns=t.ROUTER)
    phone, server = ends
    phone2 = socks(t.PHONE, t.PHONE2_IP, 5010)
    before = stats()
    assert passes(phone, server, invite("src1"))
    assert not passes(phone, server, invite("src2"))
    assert passes(phone2, server, invite("src3", host=t.PHONE2_IP))
    d = delta(before, stats())
    assert d.get("policy_source_call_limit") == 1, d


def test_source_rate(alg, ends, ctl):
    """sip-source-rate 2: of 6 REGISTERs sent at once, the burst of 2
    passes and the rest is dropped (a token comes back every 0.5 s)."""
    ctl.ok("set", "sip-source-rate", "2", netns=t.ROUTER)
    phone, server = ends
    before = stats()
    for _ in range(6):
        phone.sendto(register(), SRV)
    server.settimeout(0.5)
    got = 0
    try:
        while True:
            server.recvfrom(65535)
            got += 1
    except TimeoutError:
        pass
    d = delta(before, stats())
    assert got + d.get("policy_source_rate", 0) == 6, d
    assert 2 <= got <= 3, got


def test_unknown_methods(alg, ends, ctl):
    """A request with a method siphelper does not know passes unmodified
    by default; with sip-unknown-methods drop it is dropped, and known
    ones still pass."""
    phone, server = ends
    foo = request("FOO", "foo1", 1)
    phone.sendto(foo, SRV)
    assert server.recvfrom(65535)[0] == to_public(foo)
    ctl.ok("set", "sip-unknown-methods", "drop", netns=t.ROUTER)
    before = stats()
    assert not passes(phone, server, foo)
    assert passes(phone, server, request("OPTIONS", "opt1", 1))
    assert delta(before, stats()).get("policy_unknown_method") == 1
