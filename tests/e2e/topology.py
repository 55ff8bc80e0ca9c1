# SPDX-License-Identifier: GPL-2.0
"""The SEED.md topology in network namespaces:

  phone 192.168.0.31/24 --- lan0 192.168.0.1 [router] wan0 212.19.6.166/24
                                                  --- server 212.19.6.1/24

The router masquerades to 212.19.6.166. Sockets are opened directly in a
namespace with setns(2) through ctypes (Python 3.11 has no os.setns), so
the tests need no helper processes."""
import ctypes
import fcntl
import os
import re
import socket
import struct
import subprocess
import termios
import time
from contextlib import contextmanager

from conftest import sh
from kernel_uapi import (CLONE_NEWNET, ETHTOOL_SGRO,  # noqa: F401
                         IPCTNL_MSG_CT_DELETE,
                         IPCTNL_MSG_EXP_DELETE, MNT_DETACH,
                         NETLINK_ADD_MEMBERSHIP,
                         NETLINK_NETFILTER, NETLINK_NO_ENOBUFS,
                         NFNL_SUBSYS_CTNETLINK, NFNL_SUBSYS_CTNETLINK_EXP,
                         NFNLGRP_CONNTRACK_DESTROY, NFNLGRP_CONNTRACK_EXP_DESTROY,
                         NFNLGRP_CONNTRACK_EXP_NEW, NFNLGRP_CONNTRACK_EXP_UPDATE,
                         NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_UPDATE,
                         NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLM_F_ACK,
                         NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR,
                         SIOCETHTOOL, SOL_NETLINK)

PHONE, ROUTER, SERVER = "shp_phone", "shp_router", "shp_server"
PHONE_IP, LAN_IP = "192.168.0.31", "192.168.0.1"
PUBLIC_IP, SERVER_IP = "212.19.6.166", "212.19.6.1"
PHONE2_IP = "192.168.0.32"      # a second phone
MEDIA_IP = "212.19.6.2"         # a media server other than the SIP server
# IPv6: ULA inside, documentation prefix outside
PHONE6, LAN6, PUBLIC6, SERVER6 = "fd00::31", "fd00::1", "2001:db8::166", \
    "2001:db8::1"
libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(ns):
    """Move the calling thread into netns NS (named by `ip netns add`)."""
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), f"setns {ns}")
    finally:
        os.close(fd)


@contextmanager
def netns(ns):
    """Run the block with the calling thread in netns NS (None: where it
    is); sockets opened and processes started in it stay there."""
    if not ns:
        yield
        return
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        enter_netns(ns)
        yield
    finally:
        if libc.setns(own, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(own)


def netns_del(*names):
    """`ip netns del` of NAMES without its exec (~0.4 s each on the debug
    kernel): the same detaching unmount and unlink of /run/netns/NAME; a
    name that does not exist is no error."""
    for ns in names:
        path = f"/run/netns/{ns}"
        libc.umount2(path.encode(), MNT_DETACH)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def nsexec(ns, cmd, check=True):
    """Run command line CMD in netns NS (the same as `ip netns exec` for
    everything but /sys, which the tests do not read)."""
    return sh(cmd, check=check, ns=ns)


def ip_batch(lines, ns=None):
    """`ip -batch` of LINES (in netns NS): one exec for many commands."""
    with netns(ns):
        r = subprocess.run(["ip", "-b", "-"], input="\n".join(lines) + "\n",
                           text=True, capture_output=True)
    assert r.returncode == 0, (ns, lines, r.stderr)


def sysctl(ns, key, value=None):
    """Read KEY in netns NS (None: the test's own, the init netns) and,
    with VALUE, set it (sysctl -w KEY=VALUE); returns the value before.
    /proc/sys/net follows the netns of the thread that opens it."""
    path = "/proc/sys/" + key.replace(".", "/")
    with netns(ns):
        with open(path) as f:
            old = f.read().strip()
        if value is not None:
            with open(path, "w") as f:
                f.write(str(value))
    return int(old) if old.lstrip("-").isdigit() else old


def setup():
    teardown()
    ip_batch([f"netns add {ns}" for ns in (PHONE, ROUTER, SERVER)] + [
        f"link add lan0 netns {ROUTER} type veth peer eth0 netns {PHONE}",
        f"link add wan0 netns {ROUTER} type veth peer eth0 netns {SERVER}"])
    ip_batch(["link set lo up",
              f"addr add {PHONE_IP}/24 dev eth0",
              f"addr add {PHONE2_IP}/24 dev eth0",
              "link set eth0 up",
              f"route add default via {LAN_IP}",
              f"addr add {PHONE6}/64 dev eth0 nodad",
              f"route add ::/0 via {LAN6}"], PHONE)
    ip_batch(["link set lo up",
              f"addr add {SERVER_IP}/24 dev eth0",
              f"addr add {MEDIA_IP}/24 dev eth0",
              "link set eth0 up",
              f"addr add {SERVER6}/64 dev eth0 nodad"], SERVER)
    ip_batch(["link set lo up",
              f"addr add {LAN_IP}/24 dev lan0",
              f"addr add {PUBLIC_IP}/24 dev wan0",
              "link set lan0 up",
              "link set wan0 up",
              f"addr add {LAN6}/64 dev lan0 nodad",
              f"addr add {PUBLIC6}/64 dev wan0 nodad"], ROUTER)
    sysctl(ROUTER, "net.ipv4.ip_forward", 1)
    sysctl(ROUTER, "net.ipv6.conf.all.forwarding", 1)
    global _env_undo
    # the masquerade and the run's profile in one nft exec
    _env_undo = profile_apply(_env_profile(), NAT_NFT)


NAT_NFT = """
table ip shp_nat {
  chain pre { type nat hook prerouting priority -100; }
  chain post { type nat hook postrouting priority 100;
    oifname "wan0" masquerade; }
}
table ip6 shp_nat6 {
  chain pre { type nat hook prerouting priority -100; }
  chain post { type nat hook postrouting priority 100;
    oifname "wan0" masquerade; }
}"""


@contextmanager
def profile_only(parts):
    """The router with exactly PARTS of the profile: the run's own
    SHP_ROUTER_PROFILE is off meanwhile, and back after."""
    global _env_undo
    if _env_undo:
        _env_undo()
        _env_undo = None
    undo = profile_apply(parts)
    try:
        yield
    finally:
        undo()
        _env_undo = profile_apply(_env_profile())


def profile_without_zone():
    """The run's profile less its zone part, for a call over TCP: with
    SYNPROXY the profile keeps the TCP SIP port in zone 0 and all else in
    zone 1, and an expectation lives in its master's zone, so the media
    of a TCP call could never match it there (a router keeps a host's
    signalling and media in one zone)."""
    return profile_only([p for p in _env_profile() if p != "zone"])


# The conntrack settings routers run (SHP_ROUTER_PROFILE="all" or a comma
# list of these): each adds conntrack extensions or a lookup key that the
# test matrix's plain setup never has.
PROFILE_PARTS = ("acct", "timestamp", "events", "labels", "zone", "gro",
                 "synproxy")
_PROFILE_NFT = {
    "labels": """
table inet shp_profile_labels {
  chain pre { type filter hook prerouting priority -150;
    ct state new ct label set 1; }
}""",
    # every packet of the router in zone 1, before conntrack looks it up;
    # with SYNPROXY, its TCP SIP port stays in zone 0: SYNPROXY opens the
    # server side from its own template, which is always in the default
    # zone (nf_synproxy_core.c), so a flow of another zone never completes
    "zone": """
table inet shp_profile_zone {
  chain pre { type filter hook prerouting priority raw;
    EXEMPT ct zone set 1; }
  chain out { type filter hook output priority raw; EXEMPT ct zone set 1; }
}""",
    # SYNPROXY in front of the TCP SIP port, as its man page sets it up:
    # the phone's SYN untracked (before the zone is set), answered by the
    # router; its ACK invalid (tcp_loose=0) until the cookie checks out.
    # IPv4 only: on stock 6.1 an IPv6 connection through SYNPROXY (inet
    # table) never completes (docs/testing.md)
    "synproxy": """
table ip shp_profile_synproxy {
  chain pre { type filter hook prerouting priority raw - 10;
    iifname "lan0" tcp dport 5060 tcp flags syn notrack; }
  chain forward { type filter hook forward priority filter;
    iifname "lan0" tcp dport 5060 ct state invalid,untracked \
      synproxy mss 1460 wscale 7 timestamp sack-perm;
    ct state invalid drop; }
}""",
}


def gro(ns, dev, on):
    """`ethtool -K DEV gro on|off` in netns NS, without its exec: the
    ETHTOOL_SGRO ioctl that ethtool's ioctl path sends."""
    value = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_SGRO,
                                                    int(on)))
    ifreq = struct.pack("16sP", dev.encode(), ctypes.addressof(value))
    with netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        fcntl.ioctl(s, SIOCETHTOOL, ifreq.ljust(40, b"\0"))


def profile_apply(parts, ruleset=""):
    """Turn on the named PROFILE_PARTS on the router, their nft tables
    loaded in one nft exec with RULESET (first: loading the masquerade
    loads nf_conntrack, whose sysctls the other parts set); returns the
    undo (which leaves RULESET's own tables)."""
    undo, tables = [], []
    for part in parts:
        assert part in PROFILE_PARTS, part
        if part == "zone":
            exempt = ("tcp dport 5060 return; tcp sport 5060 return;"
                      if "synproxy" in parts else "")
            ruleset += _PROFILE_NFT[part].replace("EXEMPT", exempt)
        elif part in _PROFILE_NFT:
            ruleset += _PROFILE_NFT[part]
        else:
            continue
        family = "ip" if part == "synproxy" else "inet"
        tables.append(f"{family} shp_profile_{part}")
    if ruleset:
        nft(ROUTER, ruleset)
    for part in parts:
        _active.add(part)
        undo.append(lambda part=part: _active.discard(part))
        if part in ("acct", "timestamp"):
            key = f"net.netfilter.nf_conntrack_{part}"
            sysctl(ROUTER, key, 1)
            undo.append(lambda key=key: sysctl(ROUTER, key, 0))
        elif part == "events":
            # a listener makes every new conntrack carry the event cache
            lsn = events_listener(ROUTER)
            _listeners.append(lsn)
            undo.append(lsn)
        elif part == "synproxy":
            sysctl(ROUTER, "net.netfilter.nf_conntrack_tcp_loose", 0)
            undo.append(lambda: sysctl(
                ROUTER, "net.netfilter.nf_conntrack_tcp_loose", 1))
        elif part == "gro":
            for dev in ("lan0", "wan0"):
                gro(ROUTER, dev, True)
                undo.append(lambda dev=dev: gro(ROUTER, dev, False))

    def revert():
        for u in reversed(undo):
            if callable(u):
                u()
            elif u in _listeners:       # an event listener
                u.close()
                _listeners.remove(u)
        if tables:
            # one exec, one transaction; adding a table that is there
            # does nothing, so a test that deleted one does not fail it
            nft(ROUTER, "".join(f"add table {tb}\ndelete table {tb}\n"
                                for tb in tables))
    return revert


NFNLGRP_CONNTRACK = (NFNLGRP_CONNTRACK_NEW, NFNLGRP_CONNTRACK_UPDATE,
                     NFNLGRP_CONNTRACK_DESTROY)
NFNLGRP_CONNTRACK_EXP = (NFNLGRP_CONNTRACK_EXP_NEW,
                         NFNLGRP_CONNTRACK_EXP_UPDATE,
                         NFNLGRP_CONNTRACK_EXP_DESTROY)


def events_listener(ns):
    """A conntrack event listener in netns NS, as `conntrack -E` or
    conntrackd are for the kernel (every new conntrack gets the event
    cache extension, every event is built and multicast), that never
    reads: events that do not fit its small buffer are dropped without
    the redelivery a failed destroy event would get (NETLINK_NO_ENOBUFS),
    and no process wakes up for each one. Close it to stop."""
    s = nfnl_socket(ns)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
    s.bind((0, 0))
    for grp in NFNLGRP_CONNTRACK + NFNLGRP_CONNTRACK_EXP:
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, grp)
    return s


_listeners = []
_active = set()
_env_undo = None        # undoes setup()'s SHP_ROUTER_PROFILE


def _env_profile():
    v = os.environ.get("SHP_ROUTER_PROFILE", "")
    if v == "all":
        return list(PROFILE_PARTS)
    return [p for p in v.split(",") if p]


# The admin's own assignment: an nft ct helper object gives siphelper to
# UDP flows to port 5060 (auto-assign off).
NFT_HELPER = """
table inet shp_h {
  ct helper sip-udp { type "siphelper" protocol udp; }
  chain pre { type filter hook prerouting priority 0;
    udp dport 5060 ct helper set "sip-udp"; }
}"""


def nft(ns, ruleset):
    path = f"/tmp/{ns}.nft"
    with open(path, "w") as f:
        f.write(ruleset)
    nsexec(ns, f"nft -f {path}")


def stop_listeners():
    """Close the profile's event listeners (an open socket keeps its netns
    alive after `ip netns del`)."""
    for lsn in list(_listeners):
        lsn.close()
        _listeners.remove(lsn)


def synproxy_mss(mss):
    """The MSS the router's SYNPROXY (the `synproxy` part, when active)
    announces to the phone: it answers the SYN itself, so the phone's
    segments follow this, not the path's MTU."""
    if "synproxy" not in _active:
        return
    # one transaction: the table replaced
    nft(ROUTER, "delete table ip shp_profile_synproxy\n" +
        _PROFILE_NFT["synproxy"].replace("mss 1460", f"mss {mss}"))


def profile_zone():
    """The conntrack zone of the router's flows (the `zone` part)."""
    return 1 if "zone" in _active else 0


def teardown():
    global _env_undo
    _env_undo = None
    stop_listeners()
    _active.clear()
    netns_del(PHONE, ROUTER, SERVER)



def nfnl_socket(ns):
    """A netfilter netlink socket in netns NS (it stays there)."""
    with netns(ns):
        return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                             NETLINK_NETFILTER)


def nfnl_send(s, subsys, msg, flags, family, attrs=b""):
    """One nfnetlink request (NLM_F_REQUEST | FLAGS) on socket S."""
    body = struct.pack("=BBH", family, 0, 0) + attrs
    s.send(struct.pack("=IHHII", 16 + len(body), subsys << 8 | msg,
                       NLM_F_REQUEST | flags, 1, 0) + body)


def ctnetlink(ns, subsys, msg, attrs=b"", family=socket.AF_UNSPEC,
              flags=0):
    """One ctnetlink request (NLM_F_REQUEST | NLM_F_ACK | FLAGS) in netns
    NS; returns the kernel's errno."""
    with nfnl_socket(ns) as s:
        nfnl_send(s, subsys, msg, NLM_F_ACK | flags, family, attrs)
        while True:
            data = s.recv(65536)
            _, typ = struct.unpack_from("=IH", data)
            if typ == NLMSG_ERROR:
                return -struct.unpack_from("=i", data, 16)[0]


def nlattrs(buf):
    """A netlink attribute stream: {type: payload} (flags masked off)."""
    out, off = {}, 0
    while off + 4 <= len(buf):
        ln, typ = struct.unpack_from("=HH", buf, off)
        if ln < 4:
            break
        out[typ & ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)] = \
            buf[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


def ctnetlink_dump(ns, subsys, msg, family=socket.AF_UNSPEC):
    """A ctnetlink dump in netns NS (what `conntrack -L` reads, without
    its exec): the attributes of each entry, as nlattrs() gives them."""
    with nfnl_socket(ns) as s:
        nfnl_send(s, subsys, msg, NLM_F_DUMP, family)
        entries = []
        while True:
            data, off = s.recv(1 << 20), 0
            while off + 16 <= len(data):
                ln, typ = struct.unpack_from("=IH", data, off)
                if typ == NLMSG_DONE:
                    return entries
                if typ == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", data, off + 16)[0]
                    if err:
                        raise OSError(err, f"ctnetlink dump in {ns}")
                    return entries
                entries.append(nlattrs(data[off + 20:off + ln]))
                off += (ln + 3) & ~3


def flush(ns=None):
    """Forget all conntrack state and expectations on the router (what
    `conntrack -F; conntrack -F expect` do, without two execs); nothing
    when a test deleted the netns."""
    ns = ns or ROUTER
    if not os.path.exists(f"/run/netns/{ns}"):
        return
    ctnetlink(ns, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE)
    ctnetlink(ns, NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_DELETE)


def udp(ns, addr, port, timeout=3.0):
    """A UDP socket bound to addr:port inside netns ns."""
    return sock(ns, socket.SOCK_DGRAM, addr, port, timeout)


def tcp(ns, addr, port, timeout=3.0):
    """A TCP socket bound to addr:port inside netns ns (not connected)."""
    s = sock(ns, socket.SOCK_STREAM, addr, port, timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def tcp_connect(socks, phone_ip, server_ip, port=5010, timeout=2):
    """A TCP connection from the phone's phone_ip:port to the server's
    server_ip:5060, both sockets made by the `socks` fixture: (phone end,
    server end, source address the server saw)."""
    listener = socks(SERVER, server_ip, 5060, tcp)
    listener.listen(1)
    phone = socks(PHONE, phone_ip, port, tcp)
    phone.connect((server_ip, 5060))
    server, src = listener.accept()
    listener.close()        # free 5060 for the next connection
    server.settimeout(timeout)
    return phone, server, src


@contextmanager
def wire_segments():
    """The phone and the server send TCP in segments of one MSS, as on a
    wire: veth would carry a sender's 64 KiB TSO packets whole, so the
    router would never see a message split where the MSS splits it."""
    links = [(PHONE, "eth0"), (SERVER, "eth0")]
    for ns, dev in links:
        nsexec(ns, f"ip link set dev {dev} gso_max_size 1500")
    try:
        yield
    finally:
        for ns, dev in links:
            nsexec(ns, f"ip link set dev {dev} gso_max_size 65536")


def unacked(sock):
    """Bytes sent on TCP socket SOCK and not yet acknowledged (SIOCOUTQ)."""
    return struct.unpack("i", fcntl.ioctl(sock, termios.TIOCOUTQ,
                                          b"\0" * 4))[0]


def until(cond, bound, step=0.1):
    """Poll COND until it holds or BOUND seconds have passed: its last
    value. The checks grow apart as the wait goes on (a tenth of the time
    waited, at most 1 s) and take at most half of it: a check that runs a
    tool costs ~0.4 s of a debug guest's CPU, and polling it flat out
    slowed the very guest it waited for."""
    start = time.monotonic()
    deadline = start + bound
    while True:
        t0 = time.monotonic()
        if cond():
            return True
        now = time.monotonic()
        if now >= deadline:
            return False
        time.sleep(min(max(step, now - t0, min((now - start) / 10, 1.0)),
                       deadline - now))


def wait_sent(sock, timeout=10):
    """Wait until everything written to TCP socket SOCK is acknowledged,
    so that the next write leaves in segments of its own."""
    end = time.monotonic() + timeout
    while unacked(sock):
        assert time.monotonic() < end, "TCP data not acknowledged"
        time.sleep(0.01)


def tcp_reset(*socks):
    """Close with a reset, not a FIN: no TIME_WAIT or LAST_ACK left behind
    to block the same 4-tuple in the next test (conntrack is flushed
    after each)."""
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        s.close()


def sock(ns, kind, addr, port, timeout):
    with netns(ns):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.settimeout(timeout)
    return s


def send_udp(ns, ports, addr="127.0.0.1", payload=b"x"):
    """One datagram to addr:port for each of PORTS, from netns NS."""
    with netns(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        for p in ports:
            s.sendto(payload, (addr, p))


def recv_exact(s, n):
    """Exactly n bytes from stream socket s (its timeout bounds each read)."""
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        assert chunk, f"connection closed after {len(data)} bytes: {data!r}"
        data += chunk
    return data


def helper_of(dport):
    """The helper= field of the router's UDP conntrack to DPORT, or ''."""
    out = nsexec(ROUTER, f"conntrack -L -p udp --dport {dport}",
                 check=False).stdout
    assert f"dport={dport}" in out, out
    m = re.search(r"helper=(\S+)", out)
    return m.group(1) if m else ""
