# SPDX-License-Identifier: GPL-2.0
"""A PBX trunk: every call on one signalling flow (the PBX's 5010 to the
provider's 5060), each with its own RTP port. Every call gets exactly its
own pinholes, each BYE removes exactly its own, at every step the set of
expectations is the one the calls still up should have, and RTP from the
provider reaches the PBX for every call still up. TRUNK_CALLS (make
stress: 1000) sets the number of calls."""
import os
import resource

import pytest

import topology as t
from bulk_calls import bulk
from ctl import ctl  # noqa: F401 (fixture)
from dialog import request, response, sdp, to_private, to_public
from stats import delta, expected_ports, stats

DEBUG = "debug" in os.uname().release
CALLS = int(os.environ.get("TRUNK_CALLS", 50 if DEBUG else 200))
MEDIA = 20000
# global: written from the VM's own namespace
EXPECT_MAX = "/proc/sys/net/netfilter/nf_conntrack_expect_max"


@pytest.fixture
def room(alg):
    """What the admin of a big trunk does (README): room for two
    expectations a call in conntrack's expectation table, and for the
    PBX's RTP sockets in this process; restored after."""
    with open(EXPECT_MAX) as f:
        old = int(f.read())
    files = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(files[0], CALLS + 256)
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(need, files[1])))
    if 2 * CALLS + 64 > old:
        with open(EXPECT_MAX, "w") as f:
            f.write(str(2 * CALLS + 64))
    yield
    with open(EXPECT_MAX, "w") as f:
        f.write(str(old))
    resource.setrlimit(resource.RLIMIT_NOFILE, files)


def invite(i):
    return request("INVITE", f"trunk-{i}", 1,
                   sdp(t.PHONE_IP, [("audio", MEDIA + 2 * i, "RTP/AVP 0")]))


def pinholes(calls):
    """The expectations the calls should have: RTP and RTCP each."""
    return {MEDIA + 2 * i + k for i in calls for k in (0, 1)}


def test_trunk_calls_own_their_pinholes(room, socks):
    pbx = socks(t.PHONE, t.PHONE_IP, 5010)
    provider = socks(t.SERVER, t.SERVER_IP, 5060)
    provider_rtp = socks(t.SERVER, t.SERVER_IP, 7000)
    rtp = bulk(t.PHONE, t.PHONE_IP, [MEDIA + 2 * i for i in range(CALLS)])
    try:
        up = set()
        for i in range(CALLS):
            pbx.sendto(invite(i), (t.SERVER_IP, 5060))
            assert provider.recvfrom(65535)[0] == to_public(invite(i))
            up.add(i)
            if i + 1 in (1, CALLS // 2):
                assert expected_ports() == pinholes(up), f"{i + 1} calls"
        assert expected_ports() == pinholes(up)
        assert stats()["calls"] == CALLS

        # every third call ends, in the middle of the others
        before = stats()
        for n, i in enumerate(range(0, CALLS, 3)):
            bye = request("BYE", f"trunk-{i}", 2)
            pbx.sendto(bye, (t.SERVER_IP, 5060))
            assert provider.recvfrom(65535)[0] == to_public(bye)
            up.discard(i)
            if n in (0, 5):
                assert expected_ports() == pinholes(up), f"BYE {i}"
        assert expected_ports() == pinholes(up)
        d = delta(before, stats())
        assert d.get("expectations_removed") == 2 * (CALLS - len(up))
        # each ended call is `ending` until the answer to its BYE
        assert stats()["calls"] == CALLS
        for i in range(0, CALLS, 3):
            ok = response(200, f"trunk-{i}", "2 BYE")
            provider.sendto(ok, (t.PUBLIC_IP, 5010))
            assert pbx.recvfrom(65535)[0] == to_private(ok)
        assert stats()["calls"] == len(up)

        # the provider's RTP reaches the PBX on every call still up
        for i in sorted(up):
            provider_rtp.sendto(b"rtp %d" % i,
                                (t.PUBLIC_IP, MEDIA + 2 * i))
        for i in sorted(up):
            assert rtp[i].recvfrom(100)[0] == b"rtp %d" % i, f"call {i}"
    finally:
        for s in rtp:
            s.close()


def test_call_table_bound(alg, socks, ctl):
    """sip-max-calls 10: the first 10 calls get their pinholes, the next
    ones none (counted, their INVITEs still pass); a call that ends frees
    its place."""
    ctl.ok("set", "sip-max-calls", "10", netns=t.ROUTER)
    pbx = socks(t.PHONE, t.PHONE_IP, 5010)
    provider = socks(t.SERVER, t.SERVER_IP, 5060)
    before = stats()
    for i in range(12):
        pbx.sendto(invite(i), (t.SERVER_IP, 5060))
        assert provider.recvfrom(65535)[0]
    assert expected_ports() == pinholes(range(10))
    d = delta(before, stats())
    assert d.get("calls_refused") == 2, d
    assert stats()["calls"] == 10
    bye = request("BYE", "trunk-3", 2)
    pbx.sendto(bye, (t.SERVER_IP, 5060))
    provider.recvfrom(65535)
    # its place is free once the BYE is answered
    provider.sendto(response(200, "trunk-3", "2 BYE"), (t.PUBLIC_IP, 5010))
    pbx.recvfrom(65535)
    pbx.sendto(invite(12), (t.SERVER_IP, 5060))
    assert provider.recvfrom(65535)[0] == to_public(invite(12))
    assert expected_ports() == pinholes(set(range(10)) - {3} | {12})
