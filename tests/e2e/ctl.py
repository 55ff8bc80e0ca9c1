# SPDX-License-Identifier: GPL-2.0
"""The siphelperctl binary for the control-plane tests: its path comes from
$SIPHELPERCTL; tests using the `ctl` fixture are skipped when it is unset."""
import contextlib
import json
import os
import subprocess

import pytest

import topology as t
import uapi


# `siphelperctl -j show` of a netns with the module's defaults (the seed's
# contract: ports 5060,5061, sip-timeout 3600 s, direct media yes), as
# the suite loads it (auto_assign=all: conftest.insmod()). Tests that set
# other values write what differs: {**DEFAULT_CONFIG, "sip_timeout": 600}.
PORT_BOTH = ["udp", "tcp"]
DEFAULT_CONFIG = {
    "ports": [{"lo": 5060, "hi": 5060, "protocols": PORT_BOTH},
              {"lo": 5061, "hi": 5061, "protocols": PORT_BOTH}],
    "sip_timeout": 3600, "sip_direct_media": True, "auto_assign": True,
    "malformed": "accept", "pinholes_only": False,
    "tcp_hold_max": uapi.SIPHELPER_DEFAULT_TCP_HOLD,
    "tcp_hold_total": uapi.SIPHELPER_DEFAULT_TCP_HOLD_TOTAL,
    "sip_unreplied_timeout": uapi.SIPHELPER_DEFAULT_SIP_UNREPLIED_TIMEOUT,
    "sip_max_calls": uapi.SIPHELPER_DEFAULT_SIP_MAX_CALLS,
    "sip_media_timeout": uapi.SIPHELPER_DEFAULT_SIP_MEDIA_TIMEOUT,
    "sip_max_call_duration": 0, "sip_call_limit": 0,
    "sip_source_call_limit": 0, "sip_source_rate": 0,
    "sip_unknown_methods": "accept"}


class Ctl:
    def __init__(self, path):
        self.path = path

    def run(self, *args, netns=None, prefix="", timeout=60):
        """Run siphelperctl ARGS (optionally inside netns NETNS, or
        behind a PREFIX command such as setpriv). Returns CompletedProcess;
        a run longer than TIMEOUT seconds is killed and fails the test."""
        cmd = [self.path, *args]
        if prefix:
            cmd = prefix.split() + cmd
        with t.netns(netns):
            return subprocess.run(cmd, text=True, capture_output=True,
                                  timeout=timeout)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
        return r.stdout

    def config(self, *args, **kw):
        return json.loads(self.ok("-j", *args, "show", **kw))


@pytest.fixture(scope="session")
def ctl():
    path = os.environ.get("SIPHELPERCTL")
    if not path:
        pytest.skip("SIPHELPERCTL is not set")
    assert os.access(path, os.X_OK), path
    return Ctl(path)


@contextlib.contextmanager
def monitor(ctl, *args):
    """siphelperctl -n ROUTER ARGS monitor, killed if still running."""
    p = subprocess.Popen([ctl.path, "-n", t.ROUTER, *args, "monitor"],
                         text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        yield p
    finally:
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=10)



# --- raw generic netlink, to test the kernel's own validation (siphelperctl
# refuses bad values before sending, so it cannot reach these paths). ---
import socket  # noqa: E402
import struct  # noqa: E402


from kernel_uapi import (CTRL_ATTR_FAMILY_ID,  # noqa: E402
                         CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY,
                         GENL_ID_CTRL, NETLINK_CAP_ACK, NETLINK_EXT_ACK,
                         NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_DUMP, NLM_F_REQUEST,
                         NLMSG_DONE, NLMSG_ERROR, SOL_NETLINK)
# short names for uapi/linux/siphelper.h (tests/lib/uapi.py reads it)
CMD_GET_CONFIG = uapi.SIPHELPER_CMD_GET_CONFIG
CMD_SET_CONFIG = uapi.SIPHELPER_CMD_SET_CONFIG
CMD_GET_STATS = uapi.SIPHELPER_CMD_GET_STATS
CMD_RESET_STATS = uapi.SIPHELPER_CMD_RESET_STATS
CMD_FLUSH = uapi.SIPHELPER_CMD_FLUSH
CMD_EVENT = uapi.SIPHELPER_CMD_EVENT
A_VERSION = uapi.SIPHELPER_A_VERSION
A_PORTS = uapi.SIPHELPER_A_PORTS
A_SIP_TIMEOUT = uapi.SIPHELPER_A_SIP_TIMEOUT
A_DIRECT_MEDIA = uapi.SIPHELPER_A_DIRECT_MEDIA
A_AUTO_ASSIGN = uapi.SIPHELPER_A_AUTO_ASSIGN
A_MALFORMED_POLICY = uapi.SIPHELPER_A_MALFORMED_POLICY
A_STATS = uapi.SIPHELPER_A_STATS
A_PORTS_ENTRY = uapi.SIPHELPER_A_PORTS_ENTRY
A_PORT_LO = uapi.SIPHELPER_A_PORT_LO
A_PORT_HI = uapi.SIPHELPER_A_PORT_HI
A_PORT_PROTOS = uapi.SIPHELPER_A_PORT_PROTOS


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((-n) % 4)


def nest(t, payload):
    return attr(t | 0x8000, payload)    # NLA_F_NESTED


def u8(t, v):
    return attr(t, struct.pack("=B", v))


def u16(t, v):
    return attr(t, struct.pack("=H", v))


def u32(t, v):
    return attr(t, struct.pack("=I", v))


def port(lo=None, hi=None, protos=None):
    body = b""
    if lo is not None:
        body += u16(A_PORT_LO, lo)
    if hi is not None:
        body += u16(A_PORT_HI, hi)
    if protos is not None:
        body += u8(A_PORT_PROTOS, protos)
    return nest(A_PORTS_ENTRY, body)


class Genl:
    """Minimal generic netlink client: request() returns (errno, extack)."""

    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
        self.s.bind((0, 0))
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.seq = 0
        err, _, replies = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                       attr(CTRL_ATTR_FAMILY_NAME,
                                            b"siphelper\0"))
        assert err == 0, err
        self.family_attrs = self._attrs(replies[0])
        self.family = struct.unpack_from(
            "=H", self.family_attrs[CTRL_ATTR_FAMILY_ID])[0]

    @staticmethod
    def _attrs(payload):
        out, off = {}, 0
        while off + 4 <= len(payload):
            n, t = struct.unpack_from("=HH", payload, off)
            out[t & 0x3fff] = payload[off + 4:off + n]
            off += (n + 3) & ~3
        return out

    def request(self, family, cmd, attrs=b"", version=1, reserved=0,
                dump=False):
        """(errno, extack message, [reply payloads]); a dump's error is 0
        at NLMSG_DONE."""
        self.seq += 1
        body = struct.pack("=BBH", cmd, version, reserved) + attrs
        flags = NLM_F_REQUEST | (NLM_F_DUMP if dump else NLM_F_ACK)
        hdr = struct.pack("=IHHII", 16 + len(body), family, flags, self.seq,
                          0)
        self.s.send(hdr + body)
        replies = []
        while True:
            data = self.s.recv(65536)
            off = 0
            while off < len(data):
                n, t, flags, _, _ = struct.unpack_from("=IHHII", data, off)
                msg = data[off + 16:off + n]
                off += (n + 3) & ~3
                if t == NLMSG_DONE:
                    return 0, "", replies
                if t != NLMSG_ERROR:
                    replies.append(msg[4:])   # skip genlmsghdr
                    continue
                err = -struct.unpack_from("=i", msg)[0]
                ext = ""
                if flags & NLM_F_ACK_TLVS:
                    m = self._attrs(msg[20:]).get(1)
                    ext = m.rstrip(b"\0").decode() if m else ""
                return err, ext, replies

    def set(self, attrs, **kw):
        err, ext, _ = self.request(self.family, CMD_SET_CONFIG, attrs, **kw)
        return err, ext


def json_stats(ctl):
    """The router's counters as `siphelperctl -j stats` prints them."""
    return json.loads(ctl.ok("-j", "stats", netns=t.ROUTER))
