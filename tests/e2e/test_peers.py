# SPDX-License-Identifier: GPL-2.0
"""Real peers through the ALG, checked by an independent validator: a sipp
phone behind the NAT (NAT-unaware, private addresses everywhere) calls a
sipp server on the public side, RTP flows both ways through the media
pinholes; a phone registers at kamailio (no nathelper) and is called
through its registration; dumpcap records the router's interfaces and
tshark must find every packet well-formed and every SIP Content-Length
right."""
import os
import re
import subprocess

import pytest

import topology as t
from conftest import expectations
from stats import delta, stats
from peers import (Capture, Kamailio, dissect, run, rtp_pcap, scenario,
                   sipp_argv, sipp_stats, spawn, stop, udp_flows, validate,
                   wait_udp_listener, workdir)
from sipmsg import StreamReader, crlf, register

CALLS = 20
PACKETS = 10            # RTP packets per call and direction
SIP_PORT = 5060
UAS_MEDIA = 6000        # the server's RTP port (-mp)
LIMIT = 300             # seconds for all calls (the debug kernel is slow)
# Header lines that carry the phone's address and must be public on the
# WAN (From and Call-ID are identifiers, nobody routes on them).
ROUTED = re.compile(rb"^(Via|Contact|o|c)[:=].*$", re.M)


def fresh(path):
    if os.path.exists(path):
        os.remove(path)
    return path


# SIP over TCP with a real-world INVITE: a full SDP (ICE, DTLS) makes it
# longer than one segment, so every INVITE reaches the router in two.
BIG_SDP = ["a=ptime:20", "a=maxptime:150",
           "a=ice-ufrag:Fv1Q", "a=ice-pwd:ZqN0p9Y8wLpE4rTb6sUv2Hd3",
           "a=fingerprint:sha-256 " + ":".join(["5A"] * 32),
           "a=setup:actpass"] + [
    f"a=candidate:{i} 1 UDP {2130706431 - i} 203.0.113.{i + 1} "
    f"{40000 + i} typ srflx raddr 0.0.0.0 rport 9" for i in range(12)] + [
    f"a=x-siphelper-filler:{i:02} " + "f" * 40 for i in range(6)]


def sipp_invites(wd):
    """The INVITEs the sipp server received (its -trace_msg log)."""
    [log] = [f for f in os.listdir(wd) if f.startswith("uas_") and
             f.endswith("_messages.log")]
    with open(os.path.join(wd, log), "rb") as f:
        text = f.read()
    return [m.strip(b"\r\n").replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            for m in
            re.findall(rb"message received \[\d+\] bytes :\n\n"
                       rb"(INVITE .*?)\n\n-{10}", text, re.S)]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sipp_calls_rtp_both_ways(alg, transport):
    """20 calls from a sipp phone behind the NAT to a sipp server: all
    succeed, the callee's RTP is first to reach each public media port
    (so only the pinhole can let it in) and arrives at the phone, the
    phone's RTP leaves masqueraded, and the capture is well-formed. Over
    TCP each INVITE is longer than 1500 bytes: split over segments, it
    must still leave rewritten (sipp frames TCP by Content-Length)."""
    if transport == "tcp":
        with t.profile_without_zone():
            _sipp_calls(transport)
    else:
        _sipp_calls(transport)


def _sipp_calls(transport):
    wd = workdir()
    tcp = transport == "tcp"
    extra = ["-t", "t1"] if tcp else []
    for f in os.listdir(wd):
        if f.endswith("_messages.log"):
            os.remove(os.path.join(wd, f))
    pcap = rtp_pcap(f"{wd}/rtp.pcap", PACKETS)
    uas_csv, uac_csv = fresh(f"{wd}/uas.csv"), fresh(f"{wd}/uac.csv")
    cap = Capture("sipp")
    uas_out = open(f"{wd}/uas.out", "w")
    uas = spawn(t.SERVER, sipp_argv(scenario("uas", pcap), t.SERVER_IP,
                                    SIP_PORT, uas_csv, CALLS, LIMIT,
                                    ["-mp", str(UAS_MEDIA)] + extra, cpu=0),
                stdout=uas_out, stderr=subprocess.STDOUT, cwd=wd)
    try:
        wait_udp_listener(uas, t.SERVER_IP, SIP_PORT, proto=transport)
        uac = run(t.PHONE, sipp_argv(
            scenario("uac", pcap, BIG_SDP if tcp else ()), t.PHONE_IP,
            SIP_PORT, uac_csv, CALLS, LIMIT,
            ["-r", "10", "-l", "4", f"{t.SERVER_IP}:{SIP_PORT}"] + extra,
            cpu=1), timeout=LIMIT + 60, cwd=wd)
        uas.wait(timeout=120)
    finally:
        stop(uas)
        uas_out.close()
        cap.stop()
    for name, path in (("phone", uac_csv), ("server", uas_csv)):
        st = sipp_stats(path)
        assert (st["SuccessfulCall(C)"], st["FailedCall(C)"]) == \
            (str(CALLS), "0"), f"{name} sipp: {st}"
    assert uac.returncode == 0, uac.stderr[-1000:]

    frames = dissect(cap.path)
    msgs = validate(frames)
    invites = [m for i, s, d, m in msgs
               if i == "wan0" and s == t.PUBLIC_IP and m.startswith(b"INVITE")]
    if tcp:
        invites = sipp_invites(wd)
        assert all(len(m) > 1500 for m in invites)
    assert len(invites) == CALLS
    ports = set()
    for i, s, d, m in msgs:
        if i == "wan0" and s == t.PUBLIC_IP:
            for line in ROUTED.findall(m):
                assert t.PHONE_IP.encode() not in line, (line, m)
    for m in invites:
        for line in ROUTED.findall(m):
            assert t.PHONE_IP.encode() not in line, (line, m)
        assert b"c=IN IP4 212.19.6.166\r\n" in m, m
        ports.add(int(re.search(rb"m=audio (\d+) ", m).group(1)))
    assert len(ports) >= 1

    flows = udp_flows(frames)
    wan_in = [f for f in flows if f[0] == "wan0" and f[3] == t.PUBLIC_IP
              and f[4] in ports]
    lan_in = [f for f in flows if f[0] == "lan0" and f[1] == t.SERVER_IP
              and f[3] == t.PHONE_IP]
    lan_out = [f for f in flows if f[0] == "lan0" and f[1] == t.PHONE_IP
               and f[3] == t.SERVER_IP and f[4] == UAS_MEDIA]
    wan_out = [f for f in flows if f[0] == "wan0" and f[1] == t.PUBLIC_IP
               and f[3] == t.SERVER_IP and f[4] == UAS_MEDIA]
    want = CALLS * PACKETS
    assert (len(wan_in), len(lan_in)) == (want, want), \
        "server->phone RTP: sent to the public side vs. delivered to " \
        f"the phone ({len(wan_in)}, {len(lan_in)}), want {want} each"
    assert (len(lan_out), len(wan_out)) == (want, want), \
        "phone->server RTP: sent by the phone vs. left the router " \
        f"({len(lan_out)}, {len(wan_out)}), want {want} each"
    # per public port, the first media packet on the WAN came in
    for port in ports:
        first = next(f for f in flows if f[0] == "wan0" and (
            (f[1], f[2]) == (t.PUBLIC_IP, port) or
            (f[3], f[4]) == (t.PUBLIC_IP, port)))
        assert first[3] == t.PUBLIC_IP, \
            f"public port {port}: phone sent first {first}"


# the phone's answer to kamailio's INVITE
ANSWER_SDP = crlf(f"""
v=0
o=011 2 2 IN IP4 {t.PHONE_IP}
s=-
c=IN IP4 {t.PHONE_IP}
t=0 0
m=audio 10006 RTP/AVP 8
a=rtpmap:8 PCMA/8000
""") + b"\r\n"


def rtp_reaches_phone(socks, body, payload):
    """PAYLOAD sent from the caller's media port to the public port of the
    answer's SDP BODY reaches the phone's RTP port, from the caller."""
    media_port = int(re.search(rb"m=audio (\d+) ", body).group(1))
    rtp_in = socks(t.PHONE, t.PHONE_IP, 10006)
    media = socks(t.SERVER, t.SERVER_IP, 20000)
    media.sendto(payload, (t.PUBLIC_IP, media_port))
    data, rsrc = rtp_in.recvfrom(2048)
    assert (data, rsrc) == (payload, (t.SERVER_IP, 20000))


def recv_sip(sock, start, tries=10):
    """The next message beginning with START (skips retransmissions and
    provisional responses)."""
    for _ in range(tries):
        data, src = sock.recvfrom(65535)
        if data.startswith(start):
            return data, src
    raise AssertionError(f"no {start!r} among {tries} messages")


def headers(msg, *names):
    lines = msg.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    return [ln for ln in lines if ln.split(b":", 1)[0] in names]


def test_kamailio_registrar_calls_phone(alg, socks):
    """The phone registers at kamailio through the NAT with its private
    Contact; a call to 011 from the public side is routed by kamailio to
    the registered (public) contact and reaches the phone; the answer's
    SDP comes back public and RTP to it reaches the phone; ACK and BYE
    sent straight to the phone's Contact from another port enter through
    the registration expectation."""
    kam = Kamailio()
    cap = Capture("kamailio")
    try:
        phone = socks(t.PHONE, t.PHONE_IP, 5010)
        phone.sendto(register(), (t.SERVER_IP, SIP_PORT))
        ok, src = recv_sip(phone, b"SIP/2.0 200 ")
        assert src == (t.SERVER_IP, SIP_PORT)
        assert re.search(rb"\r\nContact: <sip:011@192\.168\.0\.31:5010>;"
                         rb"expires=\d+", ok), ok
        # kamailio fills in the seed REGISTER's ;rport and received=
        # (RFC 3581) with what it saw: the phone gets its own back
        via = re.search(rb"\r\nVia: ([^\r]*)", ok).group(1)
        assert via.startswith(b"SIP/2.0/UDP 192.168.0.31:5010;"), via
        assert b";rport=5010" in via and b"received=192.168.0.31" in via, via
        assert t.PUBLIC_IP.encode() not in ok, ok

        caller = socks(t.SERVER, t.SERVER_IP, 5070)
        sdp = crlf(f"""
v=0
o=caller 1 1 IN IP4 {t.SERVER_IP}
s=-
c=IN IP4 {t.SERVER_IP}
t=0 0
m=audio 20000 RTP/AVP 8
a=rtpmap:8 PCMA/8000
""") + b"\r\n"
        dialog = f"""Via: SIP/2.0/UDP {t.SERVER_IP}:5070;branch=z9hG4bKc{{b}}
From: <sip:caller@{t.SERVER_IP}>;tag=c1
To: <sip:011@{t.SERVER_IP}>{{to_tag}}
Call-ID: kamcall@{t.SERVER_IP}
CSeq: {{cseq}}
Max-Forwards: 70
"""
        invite = crlf(f"""
INVITE sip:011@{t.SERVER_IP} SIP/2.0
{dialog.format(b=1, to_tag="", cseq="1 INVITE")}Contact: <sip:caller@{t.SERVER_IP}:5070>
Content-Type: application/sdp
Content-Length: {len(sdp)}
""") + b"\r\n\r\n" + sdp
        caller.sendto(invite, (t.SERVER_IP, SIP_PORT))

        inv, src = recv_sip(phone, b"INVITE ")
        assert src == (t.SERVER_IP, SIP_PORT)
        assert inv.startswith(b"INVITE sip:011@192.168.0.31:5010 SIP/2.0\r\n")
        answer_sdp = ANSWER_SDP
        head = [b"SIP/2.0 200 OK"]
        for h in headers(inv, b"Via", b"From", b"Call-ID", b"CSeq"):
            head.append(h)
        head.append(headers(inv, b"To")[0] + b";tag=p1")
        head += [f"Contact: <sip:011@{t.PHONE_IP}:5010>".encode(),
                 b"Content-Type: application/sdp",
                 f"Content-Length: {len(answer_sdp)}".encode()]
        phone.sendto(b"\r\n".join(head) + b"\r\n\r\n" + answer_sdp, src)

        resp, _ = recv_sip(caller, b"SIP/2.0 200 ")
        assert b"\r\nContact: <sip:011@212.19.6.166:5010>\r\n" in resp, resp
        assert b"\r\nc=IN IP4 212.19.6.166\r\n" in resp, resp
        body = resp.split(b"\r\n\r\n", 1)[1]
        assert f"\r\nContent-Length: {len(body)}\r\n".encode() in resp
        rtp_reaches_phone(socks, body, b"\x80\x08kamailio-call-rtp")

        to_tag = ";tag=p1"
        for method, cseq in ((b"ACK", "1 ACK"), (b"BYE", "2 BYE")):
            req = crlf(f"""
{method.decode()} sip:011@{t.PUBLIC_IP}:5010 SIP/2.0
{dialog.format(b=cseq[0] + method.decode(), to_tag=to_tag, cseq=cseq)}Content-Length: 0
""") + b"\r\n\r\n"
            caller.sendto(req, (t.PUBLIC_IP, 5010))
            got, src = recv_sip(phone, method + b" ")
            assert src == (t.SERVER_IP, 5070)
            assert got.startswith(method + b" sip:011@192.168.0.31:5010 ")
    finally:
        cap.stop()
        kam.close()

    msgs = validate(dissect(cap.path))
    wan_reg = [m for i, s, d, m in msgs if i == "wan0" and
               m.startswith(b"REGISTER")]
    assert wan_reg and b"Contact: <sip:011@212.19.6.166:5010>" in wan_reg[0]
    assert any(i == "wan0" and m.startswith(b"INVITE sip:011@212.19.6.166")
               for i, s, d, m in msgs), "kamailio did not route to the " \
        "registered public contact"



def _register_at(kam_sock, user, ip):
    """USER registers from IP:5010 at kamailio; the 200 OK's Contact."""
    reg = register().replace(b"011@", f"{user}@".encode()) \
        .replace(t.PHONE_IP.encode(), ip.encode()) \
        .replace(b"tag=2717716575", f"tag={user}".encode()) \
        .replace(b"Call-ID: 2", f"Call-ID: {user}-2".encode())
    kam_sock.sendto(reg, (t.SERVER_IP, SIP_PORT))
    ok, _ = recv_sip(kam_sock, b"SIP/2.0 200 ")
    return ok


def _sdp(ip, port):
    return crlf(f"""
v=0
o=p 1 1 IN IP4 {ip}
s=-
c=IN IP4 {ip}
t=0 0
m=audio {port} RTP/AVP 8
a=rtpmap:8 PCMA/8000
""") + b"\r\n"


def test_two_phones_behind_one_nat_call_each_other(alg, socks):
    """Phones 011 (192.168.0.31) and 012 (192.168.0.32) behind the same
    NAT register at kamailio and 011 calls 012 through it: the INVITE
    reaches 012 with 011's public media address, 012's answer comes back
    with its own, ACK and BYE follow the record-route, and RTP flows both
    ways, hairpinned through the router's media pinholes (docs/datapath.md,
    "Two phones behind one NAT")."""
    kam = Kamailio()
    old_local = {}
    try:
        a = socks(t.PHONE, t.PHONE_IP, 5010)
        b = socks(t.PHONE, t.PHONE2_IP, 5010)
        _register_at(a, "011", t.PHONE_IP)
        _register_at(b, "012", t.PHONE2_IP)

        call = "hairpin-1@192.168.0.31"
        via_a = f"SIP/2.0/UDP {t.PHONE_IP}:5010;branch=z9hG4bKhp{{}};rport"
        common = (f"From: <sip:011@{t.SERVER_IP}>;tag=a1\r\n"
                  f"To: <sip:012@{t.SERVER_IP}>{{to}}\r\n"
                  f"Call-ID: {call}\r\nMax-Forwards: 70\r\n")
        offer = _sdp(t.PHONE_IP, 10006)
        a.sendto((f"INVITE sip:012@{t.SERVER_IP} SIP/2.0\r\n"
                  f"Via: {via_a.format(1)}\r\n" + common.format(to="") +
                  "CSeq: 1 INVITE\r\n"
                  f"Contact: <sip:011@{t.PHONE_IP}:5010>\r\n"
                  "Content-Type: application/sdp\r\n"
                  f"Content-Length: {len(offer)}\r\n\r\n").encode() +
                 offer, (t.SERVER_IP, SIP_PORT))
        inv, src = recv_sip(b, b"INVITE ")
        assert src == (t.SERVER_IP, SIP_PORT)
        assert inv.startswith(b"INVITE sip:012@192.168.0.32:5010 "), inv
        # 011's offer, as the ALG made it public
        assert b"\r\nc=IN IP4 212.19.6.166\r\n" in inv, inv
        port_a = int(re.search(rb"m=audio (\d+) ", inv).group(1))

        answer = _sdp(t.PHONE2_IP, 10008)
        head = [b"SIP/2.0 200 OK"]
        head += headers(inv, b"Via", b"Record-Route", b"From", b"Call-ID",
                        b"CSeq")
        head.append(headers(inv, b"To")[0] + b";tag=b1")
        head += [f"Contact: <sip:012@{t.PHONE2_IP}:5010>".encode(),
                 b"Content-Type: application/sdp",
                 f"Content-Length: {len(answer)}".encode()]
        b.sendto(b"\r\n".join(head) + b"\r\n\r\n" + answer, src)
        ok, _ = recv_sip(a, b"SIP/2.0 200 ")
        assert b"\r\nc=IN IP4 212.19.6.166\r\n" in ok, ok
        port_b = int(re.search(rb"m=audio (\d+) ", ok).group(1))
        assert port_a != port_b
        b_contact = re.search(rb"\r\nContact: <([^>]*)>", ok).group(1)
        route = b"".join(h + b"\r\n" for h in reversed(
            headers(ok, b"Record-Route"))).replace(b"Record-Route", b"Route")
        assert route, ok

        # in-dialog requests follow the record-route through kamailio
        def in_dialog(sender, receiver, method, cseq, via):
            req = (f"{method} ".encode() + b_contact + b" SIP/2.0\r\n" +
                   f"Via: {via}\r\n".encode() + route +
                   common.format(to=";tag=b1").encode() +
                   f"CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
                   .encode())
            sender.sendto(req, (t.SERVER_IP, SIP_PORT))
            got, _ = recv_sip(receiver, f"{method} ".encode())
            return got
        assert in_dialog(a, b, "ACK", 1, via_a.format(2)).startswith(
            b"ACK sip:012@192.168.0.32:5010 ")

        # RTP both ways through the router's public address. Both phones
        # live in one netns here: a packet from one to the other comes
        # back with a local source address, which the phone's side would
        # drop as martian unless told (two real phones are two hosts).
        for key in ("all", "eth0"):
            old_local[key] = t.sysctl(
                t.PHONE, f"net.ipv4.conf.{key}.accept_local", 1)
        rtp_a = socks(t.PHONE, t.PHONE_IP, 10006)
        rtp_b = socks(t.PHONE, t.PHONE2_IP, 10008)
        rtp_a.sendto(b"\x80\x08from-011", (t.PUBLIC_IP, port_b))
        try:
            data, _ = rtp_b.recvfrom(2048)
        except TimeoutError:
            raise AssertionError((port_a, port_b, expectations(),
                                  t.nsexec(t.ROUTER, "conntrack -L",
                                           check=False).stdout))
        assert data == b"\x80\x08from-011"
        rtp_b.sendto(b"\x80\x08from-012", (t.PUBLIC_IP, port_a))
        data, _ = rtp_a.recvfrom(2048)
        assert data == b"\x80\x08from-012"

        bye = in_dialog(a, b, "BYE", 2, via_a.format(3))
        assert bye.startswith(b"BYE sip:012@192.168.0.32:5010 "), bye
    finally:
        for key, v in old_local.items():
            t.sysctl(t.PHONE, f"net.ipv4.conf.{key}.accept_local", v)
        kam.close()


def test_kamailio_over_tcp_invite_over_1500_bytes(alg, socks):
    """The phone registers at kamailio over TCP; a caller's INVITE with a
    real-world SDP (ICE candidates, DTLS fingerprint: over 1500 bytes)
    reaches it through kamailio on that connection, in two segments, and
    arrives rewritten whole (Request-URI private, Content-Length right);
    the phone's 200 OK leaves with its public Contact and c=, and RTP to
    the answer's public port reaches the phone."""
    kam = Kamailio()
    try:
        with t.wire_segments(), t.profile_without_zone():
            _kamailio_tcp(kam, socks)
    finally:
        kam.close()


def _kamailio_tcp(kam, socks):
    try:
        # (5010 may still be in TIME_WAIT towards 5060 from other tests)
        phone = socks(t.PHONE, t.PHONE_IP, 5014, t.tcp)
        phone.settimeout(20)
        phone.connect((t.SERVER_IP, SIP_PORT))
        rd = StreamReader(phone)
        reg = register().replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP").replace(
            b":5010", b":5014").replace(
            b"<sip:011@192.168.0.31:5014>",
            b"<sip:011@192.168.0.31:5014;transport=tcp>")
        phone.sendall(reg)
        ok = rd.message()
        assert ok.startswith(b"SIP/2.0 200 "), ok
        assert t.PUBLIC_IP.encode() not in ok, ok

        caller = socks(t.SERVER, t.SERVER_IP, 5070)
        lines = ["m=audio 20000 RTP/AVP 8", "a=rtpmap:8 PCMA/8000",
                 "a=ice-ufrag:Kq1x", "a=ice-pwd:b8Z2c7Nq0vLr5sTw1Yx4Ae6F",
                 "a=fingerprint:sha-256 " + ":".join(["A7"] * 32)]
        lines += [f"a=candidate:{i} 1 UDP {2130706431 - i} {t.SERVER_IP} "
                  f"{20000 + 2 * i} typ host" for i in range(16)]
        sdp = crlf("\n".join([
            "v=0", f"o=caller 1 1 IN IP4 {t.SERVER_IP}", "s=-",
            f"c=IN IP4 {t.SERVER_IP}", "t=0 0"] + lines)) + b"\r\n"
        invite = crlf(f"""
INVITE sip:011@{t.SERVER_IP} SIP/2.0
Via: SIP/2.0/UDP {t.SERVER_IP}:5070;branch=z9hG4bKtcp1
From: <sip:caller@{t.SERVER_IP}>;tag=c1
To: <sip:011@{t.SERVER_IP}>
Call-ID: kamtcp@{t.SERVER_IP}
CSeq: 1 INVITE
Max-Forwards: 70
Contact: <sip:caller@{t.SERVER_IP}:5070>
Content-Type: application/sdp
Content-Length: {len(sdp)}
""") + b"\r\n\r\n" + sdp
        before = stats()
        caller.sendto(invite, (t.SERVER_IP, SIP_PORT))
        inv = rd.message()
        while not inv.startswith(b"INVITE "):
            inv = rd.message()
        assert len(inv) > 1500, len(inv)
        assert inv.startswith(b"INVITE sip:011@192.168.0.31:5014;"
                              b"transport=tcp SIP/2.0\r\n"), inv[:200]
        assert inv.endswith(sdp), inv
        d = delta(before, stats())
        assert d.get("tcp_reassembled", 0) >= 1, d

        answer_sdp = ANSWER_SDP
        head = [b"SIP/2.0 200 OK"]
        head += headers(inv, b"Via", b"Record-Route", b"From", b"Call-ID",
                        b"CSeq")
        head.append(headers(inv, b"To")[0] + b";tag=p1")
        head += [f"Contact: <sip:011@{t.PHONE_IP}:5014;transport=tcp>"
                 .encode(), b"Content-Type: application/sdp",
                 f"Content-Length: {len(answer_sdp)}".encode()]
        phone.sendall(b"\r\n".join(head) + b"\r\n\r\n" + answer_sdp)

        resp, _ = recv_sip(caller, b"SIP/2.0 200 ")
        assert b"\r\nContact: <sip:011@212.19.6.166:5014;transport=tcp>" \
            in resp, resp
        assert b"\r\nc=IN IP4 212.19.6.166\r\n" in resp, resp
        body = resp.split(b"\r\n\r\n", 1)[1]
        rtp_reaches_phone(socks, body, b"\x80\x08kamailio-tcp-rtp")
    except AssertionError as e:
        raise AssertionError(f"{e}\nkamailio: {kam.output()}") from e
