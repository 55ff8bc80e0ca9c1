# SPDX-License-Identifier: GPL-2.0
"""SIP dialogs for the call scenarios: requests and responses with any
Call-ID, CSeq and SDP body (several streams, other families), from the
phone of topology.py or towards it, and their public forms."""
import re

import topology as t

FROM = '" " <sip:011@avantelecom.avantele.com:5060>;tag=908623127'
TO = '"**43" <sip:*43@avantelecom.avantele.com;user=phone>'


def sdp(ip, streams=((("audio", 10006, "RTP/AVP 8 0 101"),)), fam="IP4",
        extra=""):
    """An SDP body: session c= ip; streams = [(type, port, proto fmt) or
    (type, port, proto fmt, media-level lines)]."""
    lines = ["v=0", f"o=011 164445748 546426177 IN {fam} {ip}",
             "s=A conversation", f"c=IN {fam} {ip}", "t=0 0"]
    for s in streams:
        lines.append(f"m={s[0]} {s[1]} {s[2]}")
        if len(s) > 3:
            lines.extend(s[3])
    lines.append("a=sendrecv")
    return ("\r\n".join(lines) + "\r\n" + extra).encode()


def _head(start, via, call, cseq, contact, body, ctype, extra):
    hdrs = [start, f"Via: {via}", f"From: {FROM}", f"To: {TO}",
            f"Call-ID: {call}", f"CSeq: {cseq}"]
    if contact:
        hdrs.append(f"Contact: {contact}")
    hdrs.extend(extra)
    if body:
        hdrs.append(f"Content-Type: {ctype}")
    hdrs.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(hdrs) + "\r\n\r\n").encode() + body


def request(method, call, cseq=1, body=b"", host=t.PHONE_IP, port=5010,
            proto="UDP", ruri=None, ctype="application/sdp", extra=()):
    """A request from the phone (host:port) to the server."""
    hp = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    ruri = ruri or f"sip:*43@{t.SERVER_IP}"
    via = f"SIP/2.0/{proto} {hp};branch=z9hG4bK{method}{cseq}{call};rport"
    return _head(f"{method} {ruri} SIP/2.0", via, call,
                 f"{cseq} {method}", f"<sip:011@{hp}>", body, ctype, extra)


def response(status, call, cseq="1 INVITE", body=b"", via=None,
             contact=None, ctype="application/sdp", extra=()):
    """A response with the given top Via (default: the phone's public
    address, as the server sends it back)."""
    via = via or (f"SIP/2.0/UDP {t.PUBLIC_IP}:5010;branch=z9hG4bK"
                  f"{cseq.split()[1]}{cseq.split()[0]}{call};rport=5010")
    reason = {100: "Trying", 180: "Ringing", 183: "Session Progress",
              200: "OK", 486: "Busy Here", 487: "Request Terminated"}
    return _head(f"SIP/2.0 {status} {reason[status]}", via, call, cseq,
                 contact, body, ctype, extra)


def _hp(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def to_public(msg, priv=t.PHONE_IP, pub=t.PUBLIC_IP, port=5010,
              pub_port=None):
    """What the ALG makes of a message from the phone: its address:port
    in headers (public port: pub_port, default the same) and its address in
    SDP replaced (Content-Length fixed)."""
    fam = "IP6" if ":" in priv else "IP4"
    head, sep, body = msg.partition(b"\r\n\r\n")
    head = head.replace(_hp(priv, port).encode(),
                        _hp(pub, pub_port or port).encode())
    body = body.replace(f"IN {fam} {priv}\r\n".encode(),
                        f"IN {fam} {pub}\r\n".encode())
    head = re.sub(rb"Content-Length: \d+",
                  f"Content-Length: {len(body)}".encode(), head)
    return head + sep + body


def to_private(msg, priv=t.PHONE_IP, pub=t.PUBLIC_IP, port=5010):
    """What the ALG makes of a message to the phone (Via, Contact,
    Request-URI, To carrying the public address:port, and the received=
    the registrar filled in: docs/datapath.md, "received and rport")."""
    return msg.replace(_hp(pub, port).encode(), _hp(priv, port).encode()) \
        .replace(f"received={pub}".encode(), f"received={priv}".encode())
