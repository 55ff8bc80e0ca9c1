# SPDX-License-Identifier: GPL-2.0
"""The datapath over IPv6 (ULA phone behind an ip6 masquerade): addresses
of a different length than the public one, so the INVITE grows and
Content-Length is recomputed."""
import pytest

import topology as t
from conftest import load, unload
from sipmsg import invite6
from stats import delta, stats


def test_ipv6_invite_grows_and_media_expected(alg, socks):
    phone = socks(t.PHONE, t.PHONE6, 5010)
    server = socks(t.SERVER, t.SERVER6, 5060)
    rtp_in = socks(t.PHONE, t.PHONE6, 10006)
    msg = invite6(t.PHONE6)
    phone.sendto(msg, (t.SERVER6, 5060))
    got, src = server.recvfrom(65535)
    assert src[:2] == (t.PUBLIC6, 5010)
    assert len(got) > len(msg)
    assert got == invite6(t.PUBLIC6)
    assert b"c=IN IP6 2001:db8::166\r\n" in got
    exp = t.nsexec(t.ROUTER, "conntrack -L expect -f ipv6").stdout
    assert "dport=10006" in exp, exp
    media = socks(t.SERVER, t.SERVER6, 20000)
    media.sendto(b"rtp6", (t.PUBLIC6, 10006))
    data, src = rtp_in.recvfrom(2048)
    assert data == b"rtp6" and src[0] == t.SERVER6


@pytest.mark.siphelper_only
@pytest.mark.parametrize("params", ["", "drop_malformed=1"])
def test_unbracketed_ipv6_passed_and_counted(net, module_path, socks,
                                             params):
    """Some UAs write an IPv6 address without brackets (RFC 3261 25.1
    wants them; "fd00::31:5010" cannot be told from a port): the message
    passes byte for byte, under drop_malformed too, and is counted under
    its own reason as well as malformed."""
    load(module_path, params)
    t.flush()
    try:
        phone = socks(t.PHONE, t.PHONE6, 5010)
        server = socks(t.SERVER, t.SERVER6, 5060)
        msg = invite6(t.PHONE6).replace(f"[{t.PHONE6}]:5010".encode(),
                                        f"{t.PHONE6}:5010".encode())
        assert f"UDP {t.PHONE6}:5010;".encode() in msg
        before = stats()
        phone.sendto(msg, (t.SERVER6, 5060))
        got, _ = server.recvfrom(65535)
        assert got == msg
        d = delta(before, stats())
        assert d.get("ipv6_unbracketed") == 1 and d.get("malformed") == 1, d
        assert "dropped" not in d, d
    finally:
        t.flush()
        unload()
