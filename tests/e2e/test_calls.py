# SPDX-License-Identifier: GPL-2.0
"""Call scenarios on one signalling flow (topology.py): two concurrent
calls end independently (BYE, CANCEL, 486), a call with four streams, a
re-INVITE/UPDATE that moves the media, SDP in 183/200/ACK, multi-port m=
lines, and an incoming call to a registered phone."""
import pytest

import topology as t
from conftest import load, rmmod
from dialog import request, response, sdp, to_private, to_public
from sipmsg import register, register_ok
from stats import delta, expected_ports, stats

SRV = (t.SERVER_IP, 5060)
PUB = (t.PUBLIC_IP, 5010)


def invite(call, port, cseq=1, host=t.PHONE_IP):
    return request("INVITE", call, cseq, sdp(host, [("audio", port,
                                                     "RTP/AVP 0")]),
                   host=host)


def send(src, dst_sock, msg, dst=SRV):
    """src sends msg to dst; returns what dst_sock receives."""
    src.sendto(msg, dst)
    return dst_sock.recvfrom(65535)[0]


@pytest.fixture
def ends():
    """How call 1 ends: the phone's BYE or CANCEL, or the server's 486."""
    def bye(phone, server):
        assert send(phone, server, request("BYE", "call1", 2)) == \
            to_public(request("BYE", "call1", 2))

    def cancel(phone, server):
        assert send(phone, server, request("CANCEL", "call1", 1)) == \
            to_public(request("CANCEL", "call1", 1))

    def busy(phone, server):
        msg = response(486, "call1")
        assert send(server, phone, msg, PUB) == to_private(msg)
    return {"bye": bye, "cancel": cancel, "486": busy}


@pytest.mark.parametrize("how", ["bye", "cancel", "486"])
def test_two_calls_end_independently(alg, socks, ends, how):
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    rtp2 = socks(t.PHONE, t.PHONE_IP, 10008)
    for call, port in (("call1", 10006), ("call2", 10008)):
        msg = invite(call, port)
        assert send(phone, server, msg) == to_public(msg)
    assert expected_ports() == {10006, 10007, 10008, 10009}
    before = stats()

    ends[how](phone, server)
    assert expected_ports() == {10008, 10009}
    assert delta(before, stats()).get("expectations_removed") == 2

    # call 2's media still flows both ways
    media = socks(t.SERVER, t.SERVER_IP, 20000)
    media.sendto(b"rtp-in-2", (t.PUBLIC_IP, 10008))
    data, src = rtp2.recvfrom(2048)
    assert (data, src) == (b"rtp-in-2", (t.SERVER_IP, 20000))
    rtp2.sendto(b"rtp-out-2", (t.SERVER_IP, 20000))
    data, src = media.recvfrom(2048)
    assert (data, src) == (b"rtp-out-2", (t.PUBLIC_IP, 10008))


def four(host):
    """Audio, video, T.38 and text; the last one with a media-level c=."""
    return [("audio", 10006, "RTP/AVP 0"),
            ("video", 10010, "RTP/AVP 96", ["a=rtpmap:96 H264/90000"]),
            ("image", 10020, "udptl t38"),
            ("text", 10030, "RTP/AVP 98", [f"c=IN IP4 {host}"])]


def test_four_streams_four_pairs(alg, socks):
    """Every stream of a call gets its RTP/RTCP pair; with the public
    ports taken by another phone's identical call, every m= line (and the
    media-level c=) is rewritten to the next free pair."""
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    phone2 = socks(t.PHONE, t.PHONE2_IP, 5010)
    first = request("INVITE", "four2", 1, sdp(t.PHONE2_IP, four(t.PHONE2_IP)),
                    host=t.PHONE2_IP)
    send(phone2, server, first)
    ports = {10006, 10010, 10020, 10030}
    assert expected_ports() == ports | {p + 1 for p in ports}

    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    before = stats()
    msg = request("INVITE", "four1", 1, sdp(t.PHONE_IP, four(t.PHONE_IP)))
    phone.sendto(msg, SRV)
    got, src = server.recvfrom(65535)
    # the masquerade gave public port 5010 to the other phone
    want = to_public(msg, pub_port=src[1])
    for old, new in ((10006, 10008), (10010, 10012), (10020, 10022),
                     (10030, 10032)):
        want = want.replace(f" {old} ".encode(), f" {new} ".encode())
    assert got == want
    moved = {10008, 10012, 10022, 10032}
    assert expected_ports() == (ports | moved | {p + 1 for p in ports} |
                                {p + 1 for p in moved})
    assert delta(before, stats())["expectations_created"] == 8

    send(phone, server, request("BYE", "four1", 2))
    assert expected_ports() == ports | {p + 1 for p in ports}


def too_many_streams():
    streams = [("audio", 10100 + 2 * i, "RTP/AVP 0") for i in range(17)]
    return request("INVITE", "many", 1, sdp(t.PHONE_IP, streams))


@pytest.mark.parametrize("params", ["", pytest.param(
    "drop_malformed=1", marks=pytest.mark.siphelper_only)])
def test_more_streams_than_bound_passed(net, module_path, socks, params):
    """17 m= lines (the core tracks 16): the message is valid SIP beyond
    our bound, so it passes unmodified and is counted `malformed`, but is
    never dropped, not even with the drop policy."""
    load(module_path, params)
    t.flush()
    try:
        phone = socks(t.PHONE, t.PHONE_IP, 5010)
        server = socks(t.SERVER, t.SERVER_IP, 5060)
        msg = too_many_streams()
        assert send(phone, server, msg) == msg
        assert expected_ports() == set()
        s = stats()
        assert s["malformed"] == 1 and s["dropped"] == 0, s
    finally:
        t.flush()
        rmmod("siphelper")


def test_reinvite_moves_media(alg, socks):
    """A re-INVITE (and then an UPDATE) of the same call with a new media
    port replaces the previous pair; the server's 200 OK with SDP reaches
    the phone with only its Via rewritten (inbound SDP is the far end's)."""
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    send(phone, server, invite("re1", 10006))
    assert expected_ports() == {10006, 10007}
    answer = response(200, "re1", body=sdp(t.SERVER_IP, [("audio", 40000,
                                                          "RTP/AVP 0")]))
    assert send(server, phone, answer, PUB) == to_private(answer)

    msg = invite("re1", 10016, cseq=2)
    assert send(phone, server, msg) == to_public(msg)
    assert expected_ports() == {10016, 10017}

    msg = request("UPDATE", "re1", 3, sdp(t.PHONE_IP, [("audio", 10026,
                                                        "RTP/AVP 0")]))
    assert send(phone, server, msg) == to_public(msg)
    assert expected_ports() == {10026, 10027}
    send(phone, server, request("BYE", "re1", 4))
    assert expected_ports() == set()


def test_late_offer_ack_with_sdp(alg, socks):
    """INVITE without SDP, the server's offer in the 200 OK, the phone's
    answer in the ACK: the ACK is rewritten and opens the pair."""
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    msg = request("INVITE", "late1", 1)
    assert send(phone, server, msg) == to_public(msg)
    assert expected_ports() == set()
    offer = response(200, "late1", body=sdp(t.SERVER_IP, [("audio", 40000,
                                                           "RTP/AVP 0")]))
    assert send(server, phone, offer, PUB) == to_private(offer)
    ack = request("ACK", "late1", 1, sdp(t.PHONE_IP, [("audio", 10006,
                                                      "RTP/AVP 0")]))
    assert send(phone, server, ack) == to_public(ack)
    assert expected_ports() == {10006, 10007}


def test_phone_answers_with_183_then_200(alg, socks):
    """The server calls the phone on the existing flow: the phone's 183
    with SDP opens the pair, PRACK passes, the 200 OK with the same SDP
    keeps exactly that pair."""
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    send(phone, server, register())
    inv = (f"INVITE sip:011@{t.PUBLIC_IP}:5010 SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP {t.SERVER_IP}:5060;branch=z9hG4bKin1\r\n"
           f"From: <sip:100@{t.SERVER_IP}>;tag=s1\r\n"
           f"To: <sip:011@{t.PUBLIC_IP}:5010>\r\n"
           f"Call-ID: in1@{t.SERVER_IP}\r\nCSeq: 1 INVITE\r\n"
           f"Contact: <sip:100@{t.SERVER_IP}:5060>\r\n"
           "Content-Length: 0\r\n\r\n").encode()
    assert send(server, phone, inv, PUB) == to_private(inv)
    via = f"SIP/2.0/UDP {t.SERVER_IP}:5060;branch=z9hG4bKin1"
    body = sdp(t.PHONE_IP, [("audio", 10006, "RTP/AVP 0")])
    contact = f"<sip:011@{t.PHONE_IP}:5010>"
    for status in (183, 200):
        msg = response(status, f"in1@{t.SERVER_IP}", body=body, via=via,
                       contact=contact, extra=["Require: 100rel"]
                       if status == 183 else ())
        assert send(phone, server, msg) == to_public(msg)
        assert expected_ports() == {10006, 10007}
        if status == 183:
            prack = (f"PRACK sip:011@{t.PUBLIC_IP}:5010 SIP/2.0\r\n"
                     f"Via: SIP/2.0/UDP {t.SERVER_IP}:5060;branch=z9hG4bKp\r\n"
                     f"Call-ID: in1@{t.SERVER_IP}\r\nCSeq: 2 PRACK\r\n"
                     "RAck: 1 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()
            assert send(server, phone, prack, PUB) == to_private(prack)


def test_multiport_m_line_passed_without_pinholes(alg, socks):
    """m=audio 10006/2 (RFC 4566 layered ports): the address is rewritten,
    the port range is left as offered and no pinhole is opened (see
    docs/datapath.md); the message is never dropped."""
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    before = stats()
    msg = request("INVITE", "multi", 1, sdp(t.PHONE_IP, [
        ("audio", "10006/2", "RTP/AVP 0"), ("video", 10010, "RTP/AVP 96")]))
    got = send(phone, server, msg)
    assert got == to_public(msg)
    assert b"m=audio 10006/2 RTP/AVP 0\r\n" in got
    assert expected_ports() == {10010, 10011}
    d = delta(before, stats())
    assert d.get("expectations_created") == 2 and "malformed" not in d, d


def test_incoming_call_to_registered_phone(alg, socks):
    """After the REGISTER's 200 OK, an INVITE from the registrar's other
    port reaches the phone in private form; the phone's 200 OK with SDP
    goes out rewritten and opens media. After Expires: 0 a new INVITE no
    longer gets in (calls already set up keep their flow)."""
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    send(phone, server, register())
    send(server, phone, register_ok(), PUB)

    def incoming(sport):
        return (f"INVITE sip:011@{t.PUBLIC_IP}:5010 SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {t.SERVER_IP}:{sport};branch=z9hG4bKi\r\n"
                f"From: <sip:100@{t.SERVER_IP}>;tag=r1\r\n"
                f"To: <sip:011@{t.PUBLIC_IP}:5010>\r\n"
                f"Call-ID: reg-in-{sport}\r\nCSeq: 1 INVITE\r\n"
                f"Contact: <sip:100@{t.SERVER_IP}:{sport}>\r\n"
                "Content-Length: 0\r\n\r\n").encode()

    registrar = socks(t.SERVER, t.SERVER_IP, 5070)
    inv = incoming(5070)
    got = send(registrar, phone, inv, PUB)
    assert got == to_private(inv)
    assert got.startswith(f"INVITE sip:011@{t.PHONE_IP}:5010 ".encode())
    ok = response(200, "reg-in-5070",
                  via=f"SIP/2.0/UDP {t.SERVER_IP}:5070;branch=z9hG4bKi",
                  contact=f"<sip:011@{t.PHONE_IP}:5010>",
                  body=sdp(t.PHONE_IP, [("audio", 10006, "RTP/AVP 0")]))
    phone.sendto(ok, (t.SERVER_IP, 5070))
    got, src = registrar.recvfrom(65535)
    assert src == PUB and got == to_public(ok)
    assert {10006, 10007} <= expected_ports()

    send(phone, server, register(0))
    send(server, phone, register_ok(0), PUB)
    late = socks(t.SERVER, t.SERVER_IP, 5072)
    late.sendto(incoming(5072), PUB)
    phone.settimeout(1)
    with pytest.raises(TimeoutError):
        phone.recvfrom(65535)
