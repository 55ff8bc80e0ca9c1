# SPDX-License-Identifier: GPL-2.0
"""IPv6 without NAT: the router forwards fd00::/64 <-> 2001:db8::/64 as a
stateful firewall (only established/related traffic in from wan0). SIP is
parsed but never rewritten, and the SDP still opens media expectations, so
RTP to the phone's advertised port gets in (as `related`) while other ports
stay closed."""
import re

import pytest

import topology as t
from dialog import request, response, sdp
from stats import delta, expected_ports, stats

SRV6 = (t.SERVER6, 5060)


@pytest.fixture
def firewall(net):
    """No v6 masquerade, a route to the ULA prefix, inbound filtered."""
    t.nsexec(t.ROUTER, "nft flush chain ip6 shp_nat6 post")
    t.nsexec(t.SERVER, f"ip -6 route add fd00::/64 via {t.PUBLIC6}")
    t.nft(t.ROUTER, """
table ip6 shp_fw {
  chain forward_in { type filter hook forward priority 0; policy accept;
    ct state established,related accept;
    iifname "wan0" drop; }
}""")
    yield
    t.nsexec(t.ROUTER, "nft delete table ip6 shp_fw")
    t.nsexec(t.SERVER, "ip -6 route del fd00::/64")
    t.nsexec(t.ROUTER, 'nft add rule ip6 shp_nat6 post oifname "wan0" '
             "masquerade")


def test_no_nat_parsed_not_rewritten_media_expected(firewall, alg, socks):
    phone = socks(t.PHONE, t.PHONE6, 5010)
    server = socks(t.SERVER, t.SERVER6, 5060)
    rtp_in = socks(t.PHONE, t.PHONE6, 10006)
    rtp_in.settimeout(1)
    before = stats()
    inv = request("INVITE", "plain6", 1, host=t.PHONE6,
                  body=sdp(t.PHONE6, [("audio", 10006, "RTP/AVP 0")],
                           fam="IP6"))
    phone.sendto(inv, SRV6)
    got, src = server.recvfrom(65535)
    assert src[:2] == (t.PHONE6, 5010) and got == inv
    assert expected_ports("ipv6") == {10006, 10007}

    via = f"SIP/2.0/UDP [{t.PHONE6}]:5010;branch=z9hG4bKINVITE1plain6"
    ok = response(200, "plain6", via=via,
                  body=sdp(t.SERVER6, [("audio", 40000, "RTP/AVP 0")],
                           fam="IP6"))
    server.sendto(ok, (t.PHONE6, 5010))
    assert phone.recvfrom(65535)[0] == ok
    d = delta(before, stats())
    assert d.get("parsed") == 2 and d.get("expectations_created", 0) >= 2, d
    assert not {"rewritten_headers", "rewritten_sdp", "malformed"} & set(d), d

    # the firewall is closed where nothing is expected ...
    closed = socks(t.PHONE, t.PHONE6, 10020)
    closed.settimeout(0.5)
    media = socks(t.SERVER, t.SERVER6, 20000)
    media.sendto(b"closed", (t.PHONE6, 10020))
    with pytest.raises(TimeoutError):
        closed.recvfrom(2048)
    # ... and open to the phone's advertised RTP port
    media.sendto(b"rtp6", (t.PHONE6, 10006))
    data, src = rtp_in.recvfrom(2048)
    assert data == b"rtp6" and src[0] == t.SERVER6


def test_reoffer_keeps_peer_pinholes_on_same_port(firewall, alg, socks):
    """Both sides use RTP port 10006 (common). A re-INVITE from the phone
    supersedes the phone's own pinholes only: the server's side, same port
    number in the other direction, stays. (Before the fix pinholes were
    matched by port alone and the re-INVITE removed the server's too.)"""
    phone = socks(t.PHONE, t.PHONE6, 5010)
    server = socks(t.SERVER, t.SERVER6, 5060)
    via = f"SIP/2.0/UDP [{t.PHONE6}]:5010;branch=z9hG4bKINVITE1same6"

    def both():
        out = t.nsexec(t.ROUTER, "conntrack -L expect -f ipv6").stdout
        return sorted((m.group(1), int(m.group(2))) for m in re.finditer(
            r"^\d+ proto=\d+ src=\S+ dst=(\S+) sport=\d+ dport=(\d+)",
            out, re.M))

    inv = request("INVITE", "same6", 1, host=t.PHONE6,
                  body=sdp(t.PHONE6, [("audio", 10006, "RTP/AVP 0")],
                           fam="IP6"))
    phone.sendto(inv, SRV6)
    server.recvfrom(65535)
    ok = response(200, "same6", via=via,
                  body=sdp(t.SERVER6, [("audio", 10006, "RTP/AVP 0")],
                           fam="IP6"))
    server.sendto(ok, (t.PHONE6, 5010))
    phone.recvfrom(65535)
    four = [(t.SERVER6, 10006), (t.SERVER6, 10007),
            (t.PHONE6, 10006), (t.PHONE6, 10007)]
    assert both() == sorted(four)

    reinv = request("INVITE", "same6", 2, host=t.PHONE6,
                    body=sdp(t.PHONE6, [("audio", 10006, "RTP/AVP 0")],
                             fam="IP6"))
    phone.sendto(reinv, SRV6)
    server.recvfrom(65535)
    assert both() == sorted(four)


def test_bye_removes_explicit_rtcp_pinhole(firewall, alg, socks):
    """Without NAT the RTCP pinhole goes to the port of a=rtcp, which need
    not be RTP + 1. A BYE removes it with the RTP one (before the fix
    pinholes were found by RTP port and RTP + 1 only, and this one stayed
    until it expired)."""
    phone = socks(t.PHONE, t.PHONE6, 5010)
    server = socks(t.SERVER, t.SERVER6, 5060)
    inv = request("INVITE", "rtcp6", 1, host=t.PHONE6,
                  body=sdp(t.PHONE6, [("audio", 10006, "RTP/AVP 0",
                                       ["a=rtcp:10050"])], fam="IP6"))
    phone.sendto(inv, SRV6)
    assert server.recvfrom(65535)[0] == inv
    assert expected_ports("ipv6") == {10006, 10050}
    phone.sendto(request("BYE", "rtcp6", 2, host=t.PHONE6), SRV6)
    server.recvfrom(65535)
    assert expected_ports("ipv6") == set()
