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

import topology as t
from peers import (Capture, Kamailio, dissect, run, rtp_pcap, scenario,
                   sipp_argv, sipp_stats, spawn, stop, udp_flows, validate,
                   wait_udp_listener, workdir)
from sipmsg import crlf, register

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


def test_sipp_calls_rtp_both_ways(alg):
    """20 calls from a sipp phone behind the NAT to a sipp server: all
    succeed, the callee's RTP is first to reach each public media port
    (so only the pinhole can let it in) and arrives at the phone, the
    phone's RTP leaves masqueraded, and the capture is well-formed."""
    wd = workdir()
    pcap = rtp_pcap(f"{wd}/rtp.pcap", PACKETS)
    uas_csv, uac_csv = fresh(f"{wd}/uas.csv"), fresh(f"{wd}/uac.csv")
    cap = Capture("sipp")
    uas_out = open(f"{wd}/uas.out", "w")
    uas = spawn(t.SERVER, sipp_argv(scenario("uas", pcap), t.SERVER_IP,
                                    SIP_PORT, uas_csv, CALLS, LIMIT,
                                    ["-mp", str(UAS_MEDIA)]),
                stdout=uas_out, stderr=subprocess.STDOUT, cwd=wd)
    try:
        wait_udp_listener(uas, t.SERVER_IP, SIP_PORT)
        uac = run(t.PHONE, sipp_argv(
            scenario("uac", pcap), t.PHONE_IP, SIP_PORT, uac_csv, CALLS,
            LIMIT, ["-r", "10", "-l", "4", f"{t.SERVER_IP}:{SIP_PORT}"]),
            timeout=LIMIT + 60, cwd=wd)
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
    assert len(invites) == CALLS
    ports = set()
    for i, s, d, m in msgs:
        if i == "wan0" and s == t.PUBLIC_IP:
            for line in ROUTED.findall(m):
                assert t.PHONE_IP.encode() not in line, (line, m)
    for m in invites:
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
        answer_sdp = crlf(f"""
v=0
o=011 2 2 IN IP4 {t.PHONE_IP}
s=-
c=IN IP4 {t.PHONE_IP}
t=0 0
m=audio 10006 RTP/AVP 8
a=rtpmap:8 PCMA/8000
""") + b"\r\n"
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
        media_port = int(re.search(rb"m=audio (\d+) ", body).group(1))

        rtp_in = socks(t.PHONE, t.PHONE_IP, 10006)
        media = socks(t.SERVER, t.SERVER_IP, 20000)
        media.sendto(b"\x80\x08kamailio-call-rtp", (t.PUBLIC_IP, media_port))
        data, rsrc = rtp_in.recvfrom(2048)
        assert (data, rsrc) == (b"\x80\x08kamailio-call-rtp",
                                (t.SERVER_IP, 20000))

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

