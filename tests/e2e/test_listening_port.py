# SPDX-License-Identifier: GPL-2.0
"""UAs that advertise a port other than their source port: a TCP UA
connects from an ephemeral port and writes its listening port 5060 in Via
and Contact; some desk phones send from one UDP port and listen on 5060.
The address is rewritten and the port is that of a pinhole to the UA's
listening port, so the registrar's requests (incoming calls) and, without
rport, its responses reach the UA where it listens (docs/datapath.md,
"Advertised ports"). Before, such a Via and Contact left private."""
import re
import socket

import pytest

import topology as t
from sipmsg import crlf


def _hp(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def register(host, port, proto="UDP", call="adv-1", rport=False):
    """A REGISTER advertising host:port in Via and Contact."""
    tp = ";transport=tcp" if proto == "TCP" else ""
    return crlf(f"""
REGISTER sip:avantelecom.avantele.com SIP/2.0
Via: SIP/2.0/{proto} {_hp(host, port)};branch=z9hG4bK{call}{";rport" if rport else ""}
From: <sip:011@avantelecom.avantele.com>;tag=1{call}
To: <sip:011@avantelecom.avantele.com>
Call-ID: {call}
CSeq: 1 REGISTER
Contact: <sip:011@{_hp(host, port)}{tp}>
Expires: 600
Content-Length: 0
""") + b"\r\n\r\n"


def answer(req):
    """The registrar's 200 OK to REQ: its Via, Contact and Call-ID."""
    via = re.search(rb"^Via: (.*)\r$", req, re.M).group(1)
    contact = re.search(rb"^Contact: (.*)\r$", req, re.M).group(1)
    call = re.search(rb"^Call-ID: (.*)\r$", req, re.M).group(1)
    return (b"SIP/2.0 200 OK\r\nVia: " + via +
            b"\r\nFrom: <sip:011@avantelecom.avantele.com>;tag=1\r\n"
            b"To: <sip:011@avantelecom.avantele.com>;tag=2\r\n"
            b"Call-ID: " + call + b"\r\nCSeq: 1 REGISTER\r\nContact: " +
            contact + b";expires=600\r\nContent-Length: 0\r\n\r\n")


def incoming_invite(hp, proto="UDP", server=t.SERVER_IP):
    """The registrar's INVITE to the binding at hp (as it saw it)."""
    tp = ";transport=tcp" if proto == "TCP" else ""
    return crlf(f"""
INVITE sip:011@{hp}{tp} SIP/2.0
Via: SIP/2.0/{proto} {_hp(server, 5060)};branch=z9hG4bKin1
From: <sip:*43@avantelecom.avantele.com>;tag=9
To: <sip:011@avantelecom.avantele.com>
Call-ID: adv-in-1
CSeq: 1 INVITE
Contact: <sip:*43@{_hp(server, 5060)}{tp}>
Content-Length: 0
""") + b"\r\n\r\n"


@pytest.mark.parametrize("phone_ip,pub_ip,server_ip", [
    pytest.param(t.PHONE_IP, t.PUBLIC_IP, t.SERVER_IP, id="v4"),
    pytest.param(t.PHONE6, t.PUBLIC6, t.SERVER6, id="v6")])
def test_udp_phone_listening_on_another_port(alg, socks, phone_ip, pub_ip,
                                             server_ip):
    """Sends from 5062, listens on 5060, no rport: the registrar's answer
    (to the Via) and its INVITE (to the Contact) reach 5060."""
    sender = socks(t.PHONE, phone_ip, 5062)
    listener = socks(t.PHONE, phone_ip, 5060)
    server = socks(t.SERVER, server_ip, 5060)
    req = register(phone_ip, 5060)
    sender.sendto(req, (server_ip, 5060))
    got, src = server.recvfrom(65535)
    assert src[1] == 5062               # the flow keeps its own port
    # the address is the public one, the port the pinhole's: the UA's
    # own, free on the public side
    assert got == req.replace(_hp(phone_ip, 5060).encode(),
                              _hp(pub_ip, 5060).encode())
    fam = "ipv6" if ":" in phone_ip else "ipv4"
    assert "dport=5060" in t.nsexec(t.ROUTER, f"conntrack -L expect -f {fam}",
                                    check=False).stdout
    # RFC 3261 18.2.2: no rport, so the answer goes to the Via's port
    server.sendto(answer(got), (pub_ip, 5060))
    back, _ = listener.recvfrom(65535)
    assert back == answer(req)          # Via and Contact private again
    inv = incoming_invite(_hp(pub_ip, 5060), server=server_ip)
    server.sendto(inv, (pub_ip, 5060))
    back, src = listener.recvfrom(65535)
    assert src[0] == server_ip
    assert back == inv.replace(_hp(pub_ip, 5060).encode(),
                               _hp(phone_ip, 5060).encode())


def test_tcp_ua_from_ephemeral_port(alg, socks):
    """Connects from an ephemeral port, writes 5060: the registrar's own
    connection to the Contact reaches the UA's listening socket."""
    listener = socks(t.SERVER, t.SERVER_IP, 5060, t.tcp)
    listener.listen(2)
    ua_listen = socks(t.PHONE, t.PHONE_IP, 5060, t.tcp)
    ua_listen.listen(1)
    ua = socks(t.PHONE, t.PHONE_IP, 0, t.tcp)
    ua.connect((t.SERVER_IP, 5060))
    conn, src = listener.accept()
    conn.settimeout(3)
    try:
        assert src[1] == ua.getsockname()[1] != 5060
        req = register(t.PHONE_IP, 5060, "TCP", "adv-tcp")
        ua.sendall(req)
        want = req.replace(f"{t.PHONE_IP}:5060".encode(),
                           f"{t.PUBLIC_IP}:5060".encode())
        got = t.recv_exact(conn, len(want))
        assert got == want
        ok = answer(got)
        conn.sendall(ok)
        assert t.recv_exact(ua, len(answer(req))) == answer(req)
        # a request to the binding opens a new connection (RFC 3261
        # 18.1.1 for a TCP Contact without connection reuse)
        with t.netns(t.SERVER):
            out = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        out.settimeout(3)
        out.connect((t.PUBLIC_IP, 5060))
        peer, psrc = ua_listen.accept()
        try:
            assert psrc[0] == t.SERVER_IP
            peer.settimeout(3)
            inv = incoming_invite(f"{t.PUBLIC_IP}:5060", "TCP")
            out.sendall(inv)
            want = inv.replace(f"{t.PUBLIC_IP}:5060".encode(),
                               f"{t.PHONE_IP}:5060".encode())
            assert t.recv_exact(peer, len(want)) == want
        finally:
            t.tcp_reset(out, peer)
    finally:
        t.tcp_reset(ua, conn)


@pytest.fixture
def third_phone(net):
    """A third address on the phone's side, for a flow of its own."""
    ip = "192.168.0.33"
    t.nsexec(t.PHONE, f"ip addr add {ip}/24 dev eth0")
    yield ip
    t.nsexec(t.PHONE, f"ip addr del {ip}/24 dev eth0")


def test_two_phones_same_port_and_a_taken_one(alg, socks, third_phone):
    """Two phones both listening on 5060 behind one address get pinholes
    of their own; a public port an existing flow from the registrar uses
    is never given (its requests would reach that flow's phone)."""
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    # a third phone talks from 5060: public 5060 <-> server:5060 is its
    taken = socks(t.PHONE, third_phone, 5060)
    taken.sendto(b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n",
                 (t.SERVER_IP, 5060))
    _, src = server.recvfrom(65535)
    assert src == (t.PUBLIC_IP, 5060)
    ports, flows = {}, {5060}
    for ip, sport, call in ((t.PHONE_IP, 5062, "adv-a"),
                            (t.PHONE2_IP, 5064, "adv-b")):
        s = socks(t.PHONE, ip, sport)
        s.sendto(register(ip, 5060, call=call), (t.SERVER_IP, 5060))
        got, src = server.recvfrom(65535)
        flows.add(src[1])
        ports[ip] = int(re.search(
            rb"Contact: <sip:011@" + t.PUBLIC_IP.encode() + rb":(\d+)>",
            got).group(1))
        assert f"UDP {t.PUBLIC_IP}:{ports[ip]};".encode() in got
    # never a port of a flow to the registrar; each phone its own
    assert not flows & set(ports.values()), (ports, flows)
    assert len(set(ports.values())) == 2
    for ip, port in ports.items():
        listener = socks(t.PHONE, ip, 5060)
        inv = incoming_invite(f"{t.PUBLIC_IP}:{port}")
        server.sendto(inv, (t.PUBLIC_IP, port))
        back, _ = listener.recvfrom(65535)
        assert back == inv.replace(f"{t.PUBLIC_IP}:{port}".encode(),
                                   f"{ip}:5060".encode()), (ip, ports)


def test_rport_answer_goes_to_the_source_port(alg, socks):
    """With rport the UA asked for answers at its source port: the flow
    carries them, with Via and Contact restored."""
    sender = socks(t.PHONE, t.PHONE_IP, 5062)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    req = register(t.PHONE_IP, 5060, rport=True)
    sender.sendto(req, (t.SERVER_IP, 5060))
    got, src = server.recvfrom(65535)
    assert f"{t.PUBLIC_IP}:5060;".encode() in got
    server.sendto(answer(got), src)
    back, _ = sender.recvfrom(65535)
    assert back == answer(req)
