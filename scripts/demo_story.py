# SPDX-License-Identifier: GPL-2.0
"""make demo, guest side: the seed's story in the VM. A phone behind NAT
(192.168.0.31) registers and calls through the router (212.19.6.166);
each SIP message is shown before the ALG (LAN side) and after it (WAN
side), then RTP flows both ways. Reuses the e2e topology and messages."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests",
                                "e2e"))
import topology as t  # noqa: E402
import test_nat as msgs  # noqa: E402

W = 62


def side_by_side(title, before, after):
    print(f"\n=== {title}")
    print(f"  {'before the ALG (LAN, from the phone)':<{W}} | "
          "after the ALG (WAN, at the server)")
    b = before.decode().split("\r\n")
    a = after.decode().split("\r\n")
    for i in range(max(len(b), len(a))):
        lb = b[i] if i < len(b) else ""
        la = a[i] if i < len(a) else ""
        mark = "*" if lb != la else " "
        print(f"{mark} {lb[:W]:<{W}} | {la[:W]}")
    print("  (* = rewritten by siphelper)")


def main():
    t.setup()
    try:
        phone = t.udp(t.PHONE, t.PHONE_IP, 5010)
        server = t.udp(t.SERVER, t.SERVER_IP, 5060)
        reg = msgs.register()
        phone.sendto(reg, (t.SERVER_IP, 5060))
        got, src = server.recvfrom(65535)
        side_by_side(f"REGISTER (server sees it from {src[0]}:{src[1]})",
                     reg, got)

        rtp_phone = t.udp(t.PHONE, t.PHONE_IP, 10006)
        inv = msgs.invite()
        phone.sendto(inv, (t.SERVER_IP, 5060))
        got, src = server.recvfrom(65535)
        side_by_side("INVITE with SDP", inv, got)

        print("\n=== pinholes the ALG opened (conntrack -L expect, router)")
        print(msgs.expectations().rstrip())

        print("\n=== RTP both ways")
        rtp_server = t.udp(t.SERVER, t.SERVER_IP, 20000)
        rtp_server.sendto(b"audio from the far end",
                          (t.PUBLIC_IP, 10006))
        data, src = rtp_phone.recvfrom(2048)
        print(f"  phone 192.168.0.31:10006 got {data!r} from {src[0]}")
        rtp_phone.sendto(b"audio from the phone", (t.SERVER_IP, 20000))
        data, src = rtp_server.recvfrom(2048)
        print(f"  server {t.SERVER_IP}:20000 got {data!r} from "
              f"{src[0]}:{src[1]}")
    finally:
        t.teardown()


if __name__ == "__main__":
    main()
