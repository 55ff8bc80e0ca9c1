# SPDX-License-Identifier: GPL-2.0
"""The call table (kmod/calls.c) as `siphelperctl calls` shows it: each
call's state from its INVITE to its end, From and To as the caller wrote
them, the signalling conntrack's id and each stream's public and private
ends; `calls flush` with and without a Call-ID; the call events of
`siphelperctl monitor`; and what does not end a call (a failed re-INVITE,
a CANCEL after the answer)."""
import json
import re
import select
import threading
import time

import pytest

import topology as t
from ctl import ctl, monitor  # noqa: F401  (fixture)
from dialog import FROM, TO, request, response, sdp, to_private, to_public
from stats import expected_ports

pytestmark = pytest.mark.siphelper_only

SRV = (t.SERVER_IP, 5060)
PUB = (t.PUBLIC_IP, 5010)


def calls(ctl):
    return json.loads(ctl.ok("-n", t.ROUTER, "-j", "calls"))


def uri(header):
    """The URI of a From/To value (between < and >)."""
    return re.search(r"<([^>]*)>", header).group(1)


def invite(call, port, cseq=1):
    return request("INVITE", call, cseq, sdp(t.PHONE_IP, [("audio", port,
                                                           "RTP/AVP 0")]))


def answer(status, call, cseq="1 INVITE", port=40000):
    return response(status, call, cseq, body=sdp(t.SERVER_IP, [
        ("audio", port, "RTP/AVP 0")]) if status < 300 else b"")


def sip_ct_id():
    out = t.nsexec(t.ROUTER, "conntrack -L -p udp --dport 5060 -o id").stdout
    ids = re.findall(r"id=(\d+)", out)
    assert len(ids) == 1, out
    return int(ids[0])


@pytest.fixture
def pair(socks):
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)

    def out(msg):
        phone.sendto(msg, SRV)
        assert server.recvfrom(65535)[0] == to_public(msg)

    def back(msg):
        server.sendto(msg, PUB)
        assert phone.recvfrom(65535)[0] == to_private(msg)
    return out, back


def test_states_streams_and_flush_by_call_id(alg, pair, ctl):
    """trying -> early -> confirmed; the stream's public end is the
    router's address and port, its private end the phone's SDP; flush by
    Call-ID takes that call and its pinholes only."""
    out, back = pair
    assert calls(ctl) == []
    out(invite("tbl1", 10006))
    [c] = calls(ctl)
    assert c["call_id"] == "tbl1" and c["state"] == "trying"
    assert (c["from"], c["to"]) == (uri(FROM), uri(TO))
    assert c["ct_id"] == sip_ct_id()
    assert [{k: v for k, v in s.items() if not k.startswith("packets")}
            for s in c["streams"]] == [{
        "dir": "out", "addr": t.PUBLIC_IP, "rtp": 10006, "rtcp": 10007,
        "priv_addr": t.PHONE_IP, "priv_rtp": 10006, "priv_rtcp": 10007}]
    back(response(180, "tbl1"))
    assert calls(ctl)[0]["state"] == "early"
    back(answer(200, "tbl1"))
    assert calls(ctl)[0]["state"] == "confirmed"

    out(invite("tbl2", 10010))
    assert {c["call_id"] for c in calls(ctl)} == {"tbl1", "tbl2"}
    assert expected_ports() == {10006, 10007, 10010, 10011}
    assert json.loads(ctl.ok("-n", t.ROUTER, "-j", "calls", "flush",
                             "tbl1")) == {"calls": 1}
    assert [c["call_id"] for c in calls(ctl)] == ["tbl2"]
    assert expected_ports() == {10010, 10011}
    assert json.loads(ctl.ok("-n", t.ROUTER, "-j", "calls", "flush",
                             "nosuchcall")) == {"calls": 0}
    assert json.loads(ctl.ok("-n", t.ROUTER, "-j", "calls",
                             "flush")) == {"calls": 1}
    assert calls(ctl) == [] and expected_ports() == set()


def test_bye_ends_the_call_when_answered(alg, pair, ctl):
    """BYE: the pinholes go at once, the call shows `ending` until the
    BYE's answer, then it is gone."""
    out, back = pair
    out(invite("tbl3", 10006))
    back(answer(200, "tbl3"))
    out(request("BYE", "tbl3", 2))
    assert expected_ports() == set()
    [c] = calls(ctl)
    assert c["state"] == "ending" and c["streams"] == []
    back(response(200, "tbl3", "2 BYE"))
    assert calls(ctl) == []


@pytest.mark.parametrize("how", ["491 to a re-INVITE", "CANCEL after 200"])
def test_what_does_not_end_a_call(alg, pair, ctl, how):
    """A final error to a re-INVITE leaves the call as it was (RFC 3261
    14.1), and a CANCEL after the answer does nothing (9.1): the call and
    its pinholes stay. Before the call table knew states, either one
    removed the call's pinholes."""
    out, back = pair
    out(invite("tbl4", 10006))
    back(answer(200, "tbl4"))
    if how.startswith("491"):
        out(invite("tbl4", 10006, cseq=2))      # a session refresh
        msg = response(486, "tbl4", "2 INVITE").replace(
            b"486 Busy Here", b"491 Request Pending")
        back(msg)
    else:
        out(request("CANCEL", "tbl4", 1))
    assert expected_ports() == {10006, 10007}
    [c] = calls(ctl)
    assert c["state"] == "confirmed" and len(c["streams"]) == 1


def test_call_events(alg, pair, ctl):
    """monitor -j shows the call starting, answered and ending, with the
    call's Call-ID, From and To and why it ended."""
    out, back = pair
    with monitor(ctl, "-j") as p:
        # it joins the group a moment after it starts: calls (flushed
        # again) until it shows one
        for i in range(100):
            out(invite(f"warm{i}", 10006))
            ctl.ok("-n", t.ROUTER, "calls", "flush")
            if select.select([p.stdout], [], [], 0.3)[0]:
                break
        out(invite("evA", 10006))
        back(response(180, "evA"))
        back(answer(200, "evA"))
        out(request("BYE", "evA", 2))
        stop = threading.Timer(30, p.kill)
        stop.start()
        events = []
        while len(events) < 3:
            line = p.stdout.readline()
            assert line, "monitor ended before the call's 3 events"
            e = json.loads(line)
            if e.get("call", {}).get("call_id") == "evA":
                events.append(e)
        stop.cancel()
    assert [e["event"] for e in events] == ["call-start", "call-answer",
                                            "call-end"]
    for e in events:
        assert (e["call"]["from"], e["call"]["to"]) == (uri(FROM), uri(TO))
        assert e["flow"]["ct_id"] == sip_ct_id()
    assert events[0]["call"]["state"] == "trying"
    assert events[0]["flow"]["dir"] == "out"
    assert events[1]["flow"]["dir"] == "in"
    assert events[1]["call"]["state"] == "confirmed"
    assert events[2]["reason"] == "bye"
    assert events[2]["call"]["streams"] == []


def held(body):
    return body.replace(b"a=sendrecv", b"a=inactive")


def test_media_keeps_the_call_and_is_counted(alg, pair, socks, ctl):
    """sip-media-timeout 3 s: RTP both ways for twice that long keeps the
    call, and `calls` counts its packets each way; once media stops, the
    call ends within the timeout and one worker period (2 s), with its
    last pinhole."""
    ctl.ok("set", "sip-media-timeout", "3", netns=t.ROUTER)
    out, back = pair
    out(invite("med1", 10006))
    back(answer(200, "med1"))
    phone_rtp = socks(t.PHONE, t.PHONE_IP, 10006)
    peer_rtp = socks(t.SERVER, t.SERVER_IP, 40000)
    for i in range(6):
        peer_rtp.sendto(b"in %d" % i, (t.PUBLIC_IP, 10006))
        assert phone_rtp.recvfrom(100)[0] == b"in %d" % i
        phone_rtp.sendto(b"out %d" % i, (t.SERVER_IP, 40000))
        assert peer_rtp.recvfrom(100)[0] == b"out %d" % i
        time.sleep(1)
    [c] = calls(ctl)
    assert c["state"] == "confirmed" and not c["hold"]
    s = c["streams"][0]
    assert (s["packets_in"], s["packets_out"]) == (6, 6), s
    assert expected_ports() == {10007}      # RTP's was taken by its flow
    assert t.until(lambda: calls(ctl) == [], 3 + 2 + 5)
    assert expected_ports() == set()


def test_hold_is_not_inactivity(alg, pair, ctl):
    """A call put on hold (a=inactive both ways) sends no media and keeps
    its call and pinholes past sip-media-timeout; taken off hold without
    media, it ends."""
    ctl.ok("set", "sip-media-timeout", "2", netns=t.ROUTER)
    out, back = pair
    out(invite("hold1", 10006))
    back(answer(200, "hold1"))
    out(request("INVITE", "hold1", 2, held(sdp(t.PHONE_IP, [
        ("audio", 10006, "RTP/AVP 0")]))))
    back(response(200, "hold1", "2 INVITE", body=held(sdp(t.SERVER_IP, [
        ("audio", 40000, "RTP/AVP 0")]))))
    [c] = calls(ctl)
    assert c["hold"]
    time.sleep(2 + 2 + 2)
    assert [c["call_id"] for c in calls(ctl)] == ["hold1"]
    assert expected_ports() == {10006, 10007}
    out(invite("hold1", 10006, cseq=3))
    back(answer(200, "hold1", "3 INVITE"))
    assert not calls(ctl)[0]["hold"]
    assert t.until(lambda: calls(ctl) == [], 2 + 2 + 5)


def test_max_call_duration(alg, pair, ctl):
    """sip-max-call-duration 2 s: the answered call ends with its
    pinholes; one still ringing is not timed by it."""
    ctl.ok("set", "sip-max-call-duration", "2", "sip-media-timeout", "0",
           netns=t.ROUTER)
    out, back = pair
    out(invite("dur1", 10006))
    back(answer(200, "dur1"))
    out(invite("dur2", 10010))
    back(response(180, "dur2"))
    assert t.until(lambda: [c["call_id"] for c in calls(ctl)] == ["dur2"],
                   2 + 2 + 5)
    assert expected_ports() == {10010, 10011}
    [c] = calls(ctl)
    assert c["state"] == "early"
