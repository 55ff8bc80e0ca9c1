# SPDX-License-Identifier: GPL-2.0
"""Real SIP peers and an independent validator for the e2e suite: sipp
(UAC/UAS with RTP from a pcap), kamailio (registrar/proxy, config written
at test time), and a dumpcap capture on the router read back with tshark.
Every process has a bounded lifetime: a hang fails the test, it never
stalls the VM."""
import os
import select
import signal
import socket
import struct
import subprocess
import time

import topology as t

HERE = os.path.dirname(os.path.abspath(__file__))


def workdir():
    """Scenarios, pcaps, statistics and logs: in the VM's output directory
    when there is one (kept on the host for a failing run)."""
    path = "/vm/peers" if os.path.isdir("/vm") else "/tmp/shp_peers"
    os.makedirs(path, exist_ok=True)
    return path


def spawn(ns, argv, **kw):
    """ARGV inside netns NS (the pid is ARGV's)."""
    with t.netns(ns):
        return subprocess.Popen(argv, text=True, **kw)


def run(ns, argv, timeout, **kw):
    with t.netns(ns):
        return subprocess.run(argv, text=True, capture_output=True,
                              timeout=timeout, **kw)


def stop(proc, timeout=10):
    """SIGTERM, then SIGKILL; returns (stdout, stderr) if piped."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate(timeout=timeout)


def wait_udp_listener(proc, addr, port, timeout=90, proto="udp"):
    """Poll until PROC's netns has a UDP (or TCP) socket bound to
    addr:port, through /proc/PID/net/udp (no process per poll: they are
    slow to start on the debug kernel); fails early if PROC died."""
    local = socket.inet_aton(addr)[::-1].hex().upper() + f":{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{proc.args} exited {proc.returncode}"
        try:
            with open(f"/proc/{proc.pid}/net/{proto}") as f:
                if any(ln.split()[1] == local for ln in f.readlines()[1:]):
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on {addr}:{port}/{proto} after "
                         f"{timeout} s: {proc.args}")


# -- RTP stream for sipp's play_pcap_audio ---------------------------------

def rtp_pcap(path, packets=10, port=6000):
    """A classic pcap of PACKETS Ethernet/IPv4/UDP/RTP PCMA packets, 20 ms
    apart. sipp only uses the UDP part: it rewrites the ports to the call's
    local and remote media ports and the addresses to -mi and the SDP's."""
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
    for i in range(packets):
        rtp = struct.pack("!BBHII", 0x80, 8, i + 1, 160 * i, 0x5348504e) \
            + b"\xd5" * 160
        udp = struct.pack("!HHHH", port, port, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64,
                         17, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
        frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + udp
        usec = 20000 * i
        out.append(struct.pack("<IIII", usec // 10**6, usec % 10**6,
                               len(frame), len(frame)) + frame)
    with open(path, "wb") as f:
        f.write(b"".join(out))
    return path


# -- sipp --------------------------------------------------------------------

def scenario(name, pcap, sdp_lines=()):
    """tests/e2e/sipp/NAME.xml with [rtp_pcap] filled in (sipp loads the
    pcap while parsing the scenario, before keywords exist), and the
    [sdp_lines] line replaced by SDP_LINES (none: removed)."""
    with open(os.path.join(HERE, "sipp", f"{name}.xml")) as f:
        text = f.read().replace("[rtp_pcap]", pcap)
    text = text.replace("      [sdp_lines]\n", "".join(
        f"      {ln}\n" for ln in sdp_lines))
    path = os.path.join(workdir(), f"{name}.xml")
    with open(path, "w") as f:
        f.write(text)
    return path


def sipp_argv(xml, ip, port, stats, calls, limit, extra=(), cpu=None):
    # -max_retrans 20 (default 5, ~11 s of UDP retransmissions): a debug
    # guest sharing the host with another one lost 1 call of 20 to
    # FailedMaxUDPRetrans; every call must still succeed within LIMIT.
    # CPU: run sipp on that CPU only. veth queues a packet on the sending
    # CPU's backlog, so a sipp that migrates between two messages can
    # reorder them: a 6.1 guest's phone got the 180 Ringing after the
    # 200 OK and aborted the call.
    # (modulo the CPUs there are: a one-CPU guest runs every sipp on it)
    cpus = sorted(os.sched_getaffinity(0))
    pin = ["taskset", "-c", str(cpus[cpu % len(cpus)])] \
        if cpu is not None else []
    return [*pin, "sipp", "-sf", xml, "-i", ip, "-p", str(port), "-mi", ip,
            "-max_retrans", "20",
            "-m", str(calls), "-timeout", f"{limit}s", "-timeout_error",
            "-nostdin", "-trace_err", "-trace_msg", "-trace_stat",
            "-stf", stats, "-fd", "1", *extra]


def sipp_stats(path):
    """The last line of sipp's -trace_stat CSV as a dict of counters."""
    with open(path) as f:
        lines = [ln.rstrip("\n").rstrip(";") for ln in f if ln.strip()]
    assert len(lines) >= 2, f"sipp wrote no statistics to {path}"
    keys, vals = lines[0].split(";"), lines[-1].split(";")
    return dict(zip(keys, vals))


# -- kamailio ----------------------------------------------------------------

KAMAILIO_CFG = """#!KAMAILIO
# Minimal registrar + stateful proxy, usrloc in memory, no auth, and no
# nathelper: the router's ALG does all NAT traversal. It record-routes, so
# that a dialog between two phones behind the same NAT stays on it.
debug=2
log_stderror=yes
fork=yes
children=1
tcp_children=1
auto_aliases=no
listen=udp:{ip}:5060
listen=tcp:{ip}:5060
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "rr.so"
modparam("usrloc", "db_mode", 0)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (is_method("REGISTER")) {{
        save("location");
        exit;
    }}
    if (has_totag()) {{
        loose_route();
        t_relay();
        exit;
    }}
    record_route();
    if (!lookup("location")) {{
        sl_send_reply("404", "Not Found");
        exit;
    }}
    if (!t_relay()) {{
        sl_reply_error();
    }}
}}
"""


class Kamailio:
    """kamailio in the server netns on SERVER_IP:5060, killed on close."""

    def __init__(self, ip=t.SERVER_IP):
        cfg = os.path.join(workdir(), "kamailio.cfg")
        with open(cfg, "w") as f:
            f.write(KAMAILIO_CFG.format(ip=ip))
        self.log = open(os.path.join(workdir(), "kamailio.log"), "w")
        # -DD: stay in the foreground (children still fork), -E: log to
        # stderr, small shared/private memory for the VM.
        self.proc = spawn(t.SERVER, ["kamailio", "-f", cfg, "-DD", "-E",
                                     "-m", "32", "-M", "4", "-Y",
                                     workdir()],
                          stdout=self.log, stderr=subprocess.STDOUT,
                          start_new_session=True)
        try:
            wait_udp_listener(self.proc, ip, 5060)
        except AssertionError:
            self.close()
            raise AssertionError("kamailio did not start: " + self.output())

    def output(self):
        with open(self.log.name) as f:
            return f.read()[-2000:]

    def close(self):
        if self.proc.poll() is None:
            # its children are in the same session/process group
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


# -- capture and tshark ------------------------------------------------------

class Capture:
    """dumpcap on the router's LAN and WAN interfaces into one pcapng
    (every frame names its interface), at most LIMIT seconds."""

    def __init__(self, name, ifaces=("lan0", "wan0"), limit=600):
        self.path = os.path.join(workdir(), f"{name}.pcapng")
        argv = ["dumpcap", "-q", "-n", "-a", f"duration:{limit}",
                "-w", self.path]
        for i in ifaces:
            argv += ["-i", i]
        self.proc = spawn(t.ROUTER, argv, stderr=subprocess.PIPE)
        # dumpcap says "Capturing on ..." once the interfaces are open
        deadline = time.monotonic() + 120
        seen = ""
        while "Capturing on" not in seen:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stderr], [], [],
                                        max(left, 0))
            line = self.proc.stderr.readline() if ready else ""
            if not line:
                stop(self.proc)
                raise AssertionError(f"dumpcap did not start: {seen}")
            seen += line
        # ... a moment before the capture loop really runs on every
        # interface (the first packets were missing without this pause)
        time.sleep(1.5)

    def stop(self):
        """End the capture (SIGTERM lets dumpcap close the file). libpcap
        hands packets over in blocks that are retired by a timer: packets
        of the last moments would be lost without the pause."""
        time.sleep(2)
        stop(self.proc, timeout=30)
        return self.path


def tshark(path, *args, timeout=300):
    r = subprocess.run(["tshark", "-n", "-r", path, *args], text=True,
                       capture_output=True, timeout=timeout)
    assert r.returncode == 0, f"tshark {args}: {r.stderr[-500:]}"
    return r.stdout


FIELDS = ("frame.number", "frame.interface_name", "frame.protocols",
          "ip.src", "udp.srcport", "ip.dst", "udp.dstport",
          "_ws.expert.severity", "_ws.expert.message", "sip.Content-Length",
          "udp.payload")
EXPERT_ERROR = 0x00800000   # malformed packets are expert errors too


def dissect(path):
    """Every frame of the capture as a dict of FIELDS (short names), from
    ONE tshark pass (its start-up is the expensive part in the VM)."""
    args = ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
    for n in FIELDS:
        args += ["-e", n]
    names = [n.rsplit(".", 1)[-1] for n in FIELDS]
    return [dict(zip(names, ln.split("\t")))
            for ln in tshark(path, *args).splitlines() if ln]


def validate(frames):
    """The independent check of everything captured: no malformed packet
    and no expert error, and every SIP message's Content-Length equals the
    length of its body. Returns the SIP messages as (interface, src, dst,
    payload bytes)."""
    bad = [(f["number"], f["interface_name"], f["message"]) for f in frames
           if f["severity"] and int(f["severity"], 0) >= EXPERT_ERROR]
    assert not bad, f"tshark: malformed or expert errors: {bad[:5]}"
    msgs = []
    for f in frames:
        # (SIP over TCP: the peers frame it by Content-Length themselves)
        if not f["protocols"].endswith((":sip", ":sip:sdp")) or \
                not f["payload"]:
            continue
        data = bytes.fromhex(f["payload"].replace(":", ""))
        body = data.partition(b"\r\n\r\n")[2]
        clen = f["Content-Length"]
        assert clen and int(clen) == len(body), \
            f"frame {f['number']} on {f['interface_name']}: Content-Length " \
            f"{clen!r} but {len(body)} bytes of body: {data[:200]!r}"
        msgs.append((f["interface_name"], f["src"], f["dst"], data))
    return msgs


def udp_flows(frames):
    """Non-SIP UDP frames (not inside ICMP) as (interface, src, sport,
    dst, dport), in capture order."""
    return [(f["interface_name"], f["src"], int(f["srcport"]), f["dst"],
             int(f["dstport"])) for f in frames
            if ":udp" in f["protocols"] and ":sip" not in f["protocols"]
            and ":icmp" not in f["protocols"]]
