# SPDX-License-Identifier: GPL-2.0
"""SIP messages of the e2e suite: the seed's REGISTER, INVITE and BYE from
the phone of topology.py, the registrar's answers, and the seed's public
form of a message (what must leave the router)."""
import re

import topology as t

PRIV = f"{t.PHONE_IP}:5010"
PUB = f"{t.PUBLIC_IP}:5010"


def crlf(text):
    return text.strip("\n").replace("\n", "\r\n").encode()


def register(expires=3600, host=t.PHONE_IP):
    return crlf(f"""
REGISTER sip:avantelecom.avantele.com SIP/2.0
Via: SIP/2.0/UDP {host}:5010;branch=z9hG4bK1076223587290572529;rport
From: " " <sip:011@avantelecom.avantele.com:5060>;tag=2717716575
To: " " <sip:011@avantelecom.avantele.com:5060>
Call-ID: 20063242339186-62012442819438@192.168.0.31
CSeq: 1 REGISTER
Contact: <sip:011@{host}:5010>
Max-Forwards: 70
Expires: {expires}
Supported: path
User-Agent: Fanvil X3 1.3.384.1694
Allow: INVITE, ACK, OPTIONS, BYE, CANCEL, REFER, NOTIFY, INFO, PRACK, UPDATE, MESSAGE
Content-Length: 0
""") + b"\r\n\r\n"


def register_ok(expires=3600):
    return crlf(f"""
SIP/2.0 200 OK
Via: SIP/2.0/UDP {PUB};branch=z9hG4bK1076223587290572529;rport=5010;received={t.PUBLIC_IP}
From: " " <sip:011@avantelecom.avantele.com:5060>;tag=2717716575
To: " " <sip:011@avantelecom.avantele.com:5060>;tag=as1
Call-ID: 20063242339186-62012442819438@192.168.0.31
CSeq: 1 REGISTER
Contact: <sip:011@{PUB}>;expires={expires}
Content-Length: 0
""") + b"\r\n\r\n"


SDP = """v=0
o=011 164445748 546426177 IN IP4 {ip}
s=A conversation
c=IN IP4 {ip}
t=0 0
m=audio {port} RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
"""


def invite(host=t.PHONE_IP, media=10006):
    body = crlf(SDP.format(ip=host, port=media)) + b"\r\n"
    head = crlf(f"""
INVITE sip:*43@avantelecom.avantele.com;user=phone SIP/2.0
Via: SIP/2.0/UDP {host}:5010;branch=z9hG4bK1841331866303606934;rport
From: " " <sip:011@avantelecom.avantele.com:5060>;tag=908623127
To: "**43" <sip:*43@avantelecom.avantele.com;user=phone>
Call-ID: 1021667421783-273216449350@192.168.0.31
CSeq: 1 INVITE
Contact: <sip:011@{host}:5010>
Max-Forwards: 70
Supported: replaces, join, path, 100rel
User-Agent: Fanvil X3 1.3.384.1694
P-Early-Media: supported
Allow-Events: talk
Allow: INVITE, ACK, OPTIONS, BYE, CANCEL, REFER, NOTIFY, INFO, PRACK, UPDATE, MESSAGE
Content-Type: application/sdp
Content-Length: {len(body)}
""")
    return head + b"\r\n\r\n" + body


def bye(host=t.PHONE_IP):
    return crlf(f"""
BYE sip:*43@{t.SERVER_IP} SIP/2.0
Via: SIP/2.0/UDP {host}:5010;branch=z9hG4bK99;rport
From: " " <sip:011@avantelecom.avantele.com:5060>;tag=908623127
To: "**43" <sip:*43@avantelecom.avantele.com;user=phone>;tag=srv1
Call-ID: 1021667421783-273216449350@192.168.0.31
CSeq: 2 BYE
Content-Length: 0
""") + b"\r\n\r\n"


def public_form(msg):
    """The seed's public form: the phone's address:port and SDP address
    replaced, nothing else."""
    out = msg.replace(PRIV.encode(), PUB.encode())
    out = out.replace(f"IN IP4 {t.PHONE_IP}\r\n".encode(),
                      f"IN IP4 {t.PUBLIC_IP}\r\n".encode())
    return out


def invite6(ip):
    """The seed INVITE from IPv6 address IP (port 5010, media 10006)."""
    host = f"[{ip}]:5010"
    sdp = SDP.replace("IP4", "IP6")
    body = crlf(sdp.format(ip=ip, port=10006)) + b"\r\n"
    head = crlf(f"""
INVITE sip:*43@avantelecom.avantele.com;user=phone SIP/2.0
Via: SIP/2.0/UDP {host};branch=z9hG4bK6;rport
From: " " <sip:011@avantelecom.avantele.com:5060>;tag=6
To: "**43" <sip:*43@avantelecom.avantele.com;user=phone>
Call-ID: v6call@fd00::31
CSeq: 1 INVITE
Contact: <sip:011@{host}>
Content-Type: application/sdp
Content-Length: {len(body)}
""")
    return head + b"\r\n\r\n" + body


class StreamReader:
    """SIP messages off a stream socket, framed by Content-Length."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def message(self):
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        clen = int(re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*"
                             rb"(\d+)", head).group(1))
        while len(rest) < clen:
            self._more()
            head, _, rest = self.buf.partition(b"\r\n\r\n")
        msg = head + b"\r\n\r\n" + rest[:clen]
        self.buf = rest[clen:]
        return msg

    def _more(self):
        chunk = self.sock.recv(65536)
        assert chunk, f"connection closed, {self.buf!r} left"
        self.buf += chunk
