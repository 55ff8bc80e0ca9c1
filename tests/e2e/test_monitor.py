# SPDX-License-Identifier: GPL-2.0
"""siphelperctl monitor on the SEED.md topology: the seed REGISTER's
rewrite seen live in the router, before and after, as text and as JSON;
no event is built while nobody listens; SIGTERM ends it cleanly; joining
the events group needs CAP_NET_ADMIN.

Every wait is bounded: the monitor runs with -c and a subprocess timeout,
its output is awaited with select() and a deadline, the sockets have
timeouts, and a monitor still running at the end of a test is killed."""
import json
import os
import select
import signal
import time

import peers
import topology as t
from conftest import rmmod
from ctl import ctl, monitor  # noqa: F401  (fixture)
from dialog import to_private
from sipmsg import PRIV, PUB, public_form, register, register_ok

NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups"
DEADLINE = 30           # seconds for the first event to show up
VIA = "Via: SIP/2.0/UDP {};branch=z9hG4bK1076223587290572529;rport"
CONTACT = "Contact: <sip:011@{}>"


def send_until_event(p, socks):
    """The phone sends the seed REGISTER through the router until the
    monitor prints (it joins the group a moment after it starts).
    Returns the phone's socket."""
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        phone.sendto(register(), (t.SERVER_IP, 5060))
        got, _ = server.recvfrom(65535)
        assert got == public_form(register())
        ready, _, _ = select.select([p.stdout], [], [], 0.5)
        if ready:
            return phone
        assert p.poll() is None, p.communicate(timeout=10)
    raise AssertionError(f"no event within {DEADLINE}s")


def stats(ctl):
    return json.loads(ctl.ok("-n", t.ROUTER, "-j", "stats"))


def test_text_before_after_and_no_work_without_listener(alg, socks, ctl):
    # nobody listens: the rewrite happens, no event is built
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    phone.sendto(register(), (t.SERVER_IP, 5060))
    assert server.recvfrom(65535)[0] == public_form(register())
    s = stats(ctl)
    assert s["rewritten_headers"] == 1, s
    assert (s["events_sent"], s["events_ratelimited"],
            s["events_failed"]) == (0, 0, 0), s
    phone.close()
    server.close()

    with monitor(ctl, "-c", "1") as p:
        send_until_event(p, socks)
        out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    print(out)      # what a user sees (pytest -rP)
    lines = out.splitlines()
    assert lines[0].startswith(
        "rewrite out udp 192.168.0.31:5010 -> 212.19.6.1:5060 REGISTER ct "
    ), out
    for want in ("  Via: 192.168.0.31:5010 => 212.19.6.166:5010",
                 "  Contact: 192.168.0.31:5010 => 212.19.6.166:5010",
                 "- " + VIA.format(PRIV), "+ " + VIA.format(PUB),
                 "- " + CONTACT.format(PRIV), "+ " + CONTACT.format(PUB),
                 "  Call-ID: 20063242339186-62012442819438@192.168.0.31",
                 "  REGISTER sip:avantelecom.avantele.com SIP/2.0"):
        assert want in lines, (want, out)
    # the "+" line comes right after its "-" line
    i = lines.index("- " + VIA.format(PRIV))
    assert lines[i + 1] == "+ " + VIA.format(PUB)
    assert stats(ctl)["events_sent"] >= 1


def test_json_names_the_edits(alg, socks, ctl):
    with monitor(ctl, "-j", "-c", "1") as p:
        send_until_event(p, socks)
        out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 1, out
    ev = json.loads(lines[0])
    assert ev["event"] == "rewrite"
    flow = dict(ev["flow"])
    ct_id = flow.pop("ct_id")
    assert flow == {"family": "ipv4", "proto": "udp", "src": t.PHONE_IP,
                    "sport": 5010, "dst": t.SERVER_IP, "dport": 5060,
                    "dir": "out"}
    ids = t.nsexec(t.ROUTER, "conntrack -L -p udp --dport 5060 -o id").stdout
    assert f"id={ct_id}" in ids, (ct_id, ids)
    assert ev["method"] == "REGISTER"
    assert ev["call_id"] == "20063242339186-62012442819438@192.168.0.31"
    before, after = (ev[k].encode("latin-1") for k in ("before", "after"))
    assert before == register()
    assert after == public_form(register())
    assert ev["before_len"] == len(before) and not ev["truncated"]
    edits = {(e["field"], e["old"], e["new"]) for e in ev["edits"]}
    assert edits == {("Via", PRIV, PUB), ("Contact", PRIV, PUB)}, ev["edits"]
    for e in ev["edits"]:
        off = e["offset"]
        assert before[off:off + len(e["old"])] == e["old"].encode()


def test_malformed_and_flush_events(alg, socks, ctl):
    """What was not parsed, and why: a malformed datagram gives a
    malformed event with the core's reason, where, the message, and what
    became of it (passed; dropped under malformed-policy drop); a flush
    gives a flush event with what went. Expectations have no event of
    ours: conntrack -E expect reports them."""
    bad = register().replace(b"UDP 192.168.0.31:5010", b"UDP h:70000")
    with monitor(ctl, "-j") as p:
        phone = send_until_event(p, socks)
        lines = Lines(p)
        lines.until(1)
        for policy in ("accept", "drop"):
            ctl.ok("-n", t.ROUTER, "set", "malformed", policy)
            phone.sendto(bad, (t.SERVER_IP, 5060))
            while lines.until(len(lines.events) + 1)[-1]["event"] != \
                    "malformed":
                pass
            ev = lines.events[-1]
            assert ev["reason"] == "bad Via", ev
            # the core stops in the Via line
            via = bad.index(b"Via: ")
            assert via < ev["offset"] <= bad.index(b"\r\n", via), ev
            assert ev["action"] == ("passed" if policy == "accept"
                                    else "dropped"), ev
            assert ev["message"].encode("latin-1") == bad, ev
            assert ev["message_len"] == len(bad)
            assert ev["flow"]["dir"] == "out" and \
                ev["flow"]["src"] == t.PHONE_IP, ev
        ctl.ok("-n", t.ROUTER, "set", "malformed", "accept")
        out = json.loads(ctl.ok("-n", t.ROUTER, "-j", "flush"))
        while lines.until(len(lines.events) + 1)[-1]["event"] != "flush":
            pass
        ev = lines.events[-1]
        assert ev["conntracks"] == out["conntracks"] >= 1, (ev, out)
        assert ev["expectations"] == out["expectations"], (ev, out)


def test_sigterm_ends_it_cleanly(alg, socks, ctl):
    with monitor(ctl, "-j") as p:
        send_until_event(p, socks)
        json.loads(p.stdout.readline())
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
        assert p.returncode == 0, err


class Lines:
    """JSON lines from the monitor's stdout, read with a deadline."""

    def __init__(self, p):
        self.p, self.buf, self.events = p, b"", []

    def until(self, n, timeout=DEADLINE):
        fd, deadline = self.p.stdout.fileno(), time.monotonic() + timeout
        while len(self.events) < n:
            left = deadline - time.monotonic()
            assert left > 0, (len(self.events), n, self.buf[-300:])
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 1 << 16)
                assert chunk, self.p.communicate(timeout=10)
                *done, self.buf = (self.buf + chunk).split(b"\n")
                self.events += [json.loads(x) for x in done]
        return self.events


def test_rate_limit_accounts_for_every_rewrite(alg, socks, ctl):
    """A burst of 300 REGISTERs: each rewrite is sent, rate limited or
    failed, never lost; the events sent carry the count they hid."""
    with monitor(ctl, "-j") as p:
        phone = send_until_event(p, socks)
        lines = Lines(p)
        lines.until(1)
        s0 = stats(ctl)
        for _ in range(300):
            phone.sendto(register(), (t.SERVER_IP, 5060))
        time.sleep(1.1)         # the bucket refills: one more goes out
        phone.sendto(register(), (t.SERVER_IP, 5060))
        deadline = time.monotonic() + DEADLINE
        while stats(ctl)["rewritten_headers"] < s0["rewritten_headers"] + 301:
            assert time.monotonic() < deadline, stats(ctl)
            time.sleep(0.2)
        s = stats(ctl)
        d = {k: s[k] - s0[k] for k in s}
        assert d["rewritten_headers"] == 301, d
        assert d["events_sent"] + d["events_ratelimited"] + \
            d["events_failed"] == 301, d
        assert s["events_failed"] == 0, s
        # the monitor listened from the first event sent: it got them all
        evs = lines.until(s["events_sent"])
        assert len(evs) == s["events_sent"], s
        assert sum(e.get("suppressed", 0) for e in evs) == \
            s["events_ratelimited"], s
    print(d)        # how many the bucket let through (pytest -rP)


def test_write_pcapng_before_and_after(alg, socks, ctl, tmp_path):
    """monitor -w: every rewrite as two packets, the message as it came in
    and as it left, on interfaces lan and wan with each side's addresses;
    tshark decodes them all as SIP (peers.validate: no malformed packet,
    no expert error, Content-Length right), and they are byte for byte
    what the phone and the registrar sent and received."""
    path = tmp_path / "rewrites.pcapng"
    phone = socks(t.PHONE, t.PHONE_IP, 5010)
    server = socks(t.SERVER, t.SERVER_IP, 5060)
    registrar = socks(t.SERVER, t.SERVER_IP, 5070)
    header = None
    with monitor(ctl, "-w", str(path)) as p:
        # the REGISTER until the monitor is listening: the file grows
        deadline = time.monotonic() + DEADLINE
        while True:
            assert time.monotonic() < deadline, "nothing written"
            if header is None and path.exists() and path.stat().st_size:
                header = path.stat().st_size
            phone.sendto(register(), (t.SERVER_IP, 5060))
            assert server.recvfrom(65535)[0] == public_form(register())
            time.sleep(0.2)
            if header and path.stat().st_size > header:
                break
            assert p.poll() is None, p.communicate(timeout=10)
        # the registrar's answer, then a request from its other port (the
        # answer opened the way in): the other way round
        server.sendto(register_ok(), (t.PUBLIC_IP, 5010))
        ok = phone.recvfrom(65535)[0]
        assert ok == to_private(register_ok())
        invite = (f"INVITE sip:011@{PUB} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP {t.SERVER_IP}:5070;branch=z9hG4bKw\r\n"
                  f"From: <sip:100@{t.SERVER_IP}>;tag=w1\r\n"
                  f"To: <sip:011@{PUB}>\r\nCall-ID: pcapng-in\r\n"
                  f"CSeq: 1 INVITE\r\n"
                  f"Contact: <sip:100@{t.SERVER_IP}:5070>\r\n"
                  "Content-Length: 0\r\n\r\n").encode()
        registrar.sendto(invite, (t.PUBLIC_IP, 5010))
        got = phone.recvfrom(65535)[0]
        assert got == invite.replace(PUB.encode(), PRIV.encode())
        deadline = time.monotonic() + DEADLINE
        while b"pcapng-in" not in path.read_bytes():
            assert time.monotonic() < deadline, "incoming not written"
            time.sleep(0.2)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert out == "" and " rewrites (" in err, (out, err)
    frames = peers.dissect(str(path))
    msgs = peers.validate(frames)
    assert len(msgs) == len(frames) and len(msgs) % 2 == 0, frames
    ports = [(f["srcport"], f["dstport"]) for f in frames]
    # every REGISTER: in on lan from the phone, out on wan from the router
    reg = register()
    for i in range(0, len(msgs) - 4, 2):
        assert msgs[i] == ("lan", t.PHONE_IP, t.SERVER_IP, reg)
        assert msgs[i + 1] == ("wan", t.PUBLIC_IP, t.SERVER_IP,
                               public_form(reg))
        assert ports[i] == ports[i + 1] == ("5010", "5060")
    # the answer and the INVITE: in on wan to the public address, out on
    # lan to the phone
    assert msgs[-4] == ("wan", t.SERVER_IP, t.PUBLIC_IP, register_ok())
    assert msgs[-3] == ("lan", t.SERVER_IP, t.PHONE_IP, ok)
    assert ports[-4] == ports[-3] == ("5060", "5010")
    assert msgs[-2] == ("wan", t.SERVER_IP, t.PUBLIC_IP, invite)
    assert msgs[-1] == ("lan", t.SERVER_IP, t.PHONE_IP, got)
    assert ports[-2] == ports[-1] == ("5070", "5010")


def test_needs_cap_net_admin(alg, ctl):
    r = ctl.run("monitor", "-c", "1", prefix=NOBODY, timeout=10)
    assert r.returncode == 1, r
    assert "listening to siphelper events needs CAP_NET_ADMIN" in r.stderr


def test_module_not_loaded(ctl):
    rmmod("siphelper", check=False)
    r = ctl.run("monitor", "-c", "1", timeout=10)
    assert r.returncode == 1, r
    assert "siphelper module not loaded, and the kernel could not load it" \
        in r.stderr
