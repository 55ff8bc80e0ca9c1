#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""scripts/stress_doc.py DIR DOC.md: put the figures of one `make stress`
run (scripts/stress.sh's output directory DIR = build/stress/KERNEL) into
DOC.md (docs/reliability.md), between the markers
<!-- stress KERNEL begin --> and <!-- stress KERNEL end --> of the section
"Last make stress runs". A run on another kernel keeps its own block; the
blocks are sorted by kernel name. Everything comes from files the run
left: report.txt (first line), time, hostile-*.json, faults.txt,
run.log (pytest's summary), dmesg, kmemleak, tainted."""
import json
import os
import re
import sys
import time

SECTION = "## Last `make stress` runs"
INTRO = ("Written by `make stress` (`scripts/stress_doc.py`) from the "
         "run's own output, one block per kernel; the figures above are "
         "from the runs recorded by hand.")


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def taint(value):
    """The kernel's taint letters (as in an oops) of /proc/sys/kernel/tainted."""
    if not value.strip().isdigit():
        return "?"
    v = int(value)
    return "".join(c for i, c in enumerate("PFSRMBUDAWCIOELKXTN")
                   if v >> i & 1) or "none"


def num(n):
    return f"{n:,}".replace(",", " ")


def udp_rows(d):
    rows = ["| run | datagrams | seconds | parsed / malformed | "
            "rewritten hdr / sdp | expectations made / left | "
            "lost / mismatch |",
            "|---|---:|---:|---|---|---|---|"]
    for name, label in (("hostile-udp", "IPv4 UDP"),
                        ("hostile-udp6", "IPv6 UDP"),
                        ("hostile-registered",
                         "through a registration expectation")):
        p = os.path.join(d, name + ".json")
        if not os.path.exists(p):
            continue
        r = json.load(open(p))
        k, w = r["kernel"], r["replay"]
        rows.append(
            f"| {label} | {num(r['sent'])} | {r['seconds']} | "
            f"{num(k['parsed'])} / {num(k['malformed'])} | "
            f"{num(k['rewritten_headers'])} / {num(k['rewritten_sdp'])} | "
            f"{num(k['expectations_created'])} / {r['expectations_left']} | "
            f"{w['lost']} / {w['mismatch']} |")
    return rows if len(rows) > 2 else []


def tcp_lines(d):
    out = []
    for p in sorted(os.listdir(d)):
        if not (p.startswith("hostile-tcp") and p.endswith(".json")):
            continue
        r = json.load(open(os.path.join(d, p)))
        k = r["kernel"]
        what = ", ".join(f"{key} {num(k[key])}" for key in (
            "seen", "parsed", "truncated", "malformed", "rewritten_headers")
            if key in k)
        writes = f"{num(r['writes'])} writes; " if "writes" in r else ""
        out.append(f"* `{p[:-5]}`: {writes}segments {what}")
    return out


def block(d, kernel):
    report = read(os.path.join(d, "report.txt"))
    head = report.splitlines()[0] if report else "no report.txt"
    m = re.match(r"stress on \S+ \((\S+)\): (\d+) datagrams requested, "
                 r"(\d+) s, exit (\d+)", head)
    rel, asked, secs, rc = m.groups() if m else ("?", "?", "?", "?")
    dmesg = read(os.path.join(d, "dmesg"))
    cpus = re.search(r"smp: Brought up \d+ nodes?, (\d+) CPUs?", dmesg)
    log = re.sub(r"\x1b\[[0-9;]*m", "", read(os.path.join(d, "run.log")))
    summary = re.findall(r"(?m)^=*\s*(\d+ (?:passed|failed).*?) in "
                         r"([\d.]+)s", log)
    summary = f"{summary[-1][0]} in {summary[-1][1]} s" if summary else \
        "no pytest summary (the run did not finish)"
    leaks = read(os.path.join(d, "kmemleak"), None)
    leak = ("no kmemleak in this kernel" if leaks is None else
            "kmemleak: empty" if "unreferenced object" not in leaks else
            f"kmemleak: {leaks.count('unreferenced object')} objects")
    stamp = time.strftime("%Y-%m-%d", time.gmtime(
        os.path.getmtime(os.path.join(d, "report.txt"))))
    lines = [f"<!-- stress {kernel} begin -->",
             f"### {kernel}: {rel}, "
             f"{cpus.group(1) if cpus else '?'} CPU(s), {stamp}",
             "",
             f"* {num(int(asked)) if asked.isdigit() else asked} datagrams "
             f"requested; pytest: {summary}; exit {rc} (the VM harness "
             "fails the run on any splat); "
             f"taint {taint(read(os.path.join(d, 'tainted')))}; "
             f"{leak}.",
             f"* {secs} s in all; VM: "
             f"{read(os.path.join(d, 'time')).strip() or '?'}.",
             ""]
    rows = udp_rows(d)
    if rows:
        lines += rows + [""]
    tcp = tcp_lines(d)
    faults = [f"* `{ln}`" for ln in
              read(os.path.join(d, "faults.txt")).splitlines() if ln]
    if tcp:
        lines += ["TCP:", ""] + tcp + [""]
    if faults:
        lines += ["Faults (`faults.txt`: test, counts, figures):", ""] + \
            faults + [""]
    lines.append(f"<!-- stress {kernel} end -->")
    return "\n".join(lines)


def main():
    d, doc = sys.argv[1], sys.argv[2]
    kernel = os.path.basename(os.path.normpath(d))
    text = read(doc)
    blocks = {m.group(1): m.group(0) for m in re.finditer(
        r"(?s)<!-- stress (\S+) begin -->.*?<!-- stress \1 end -->", text)}
    blocks[kernel] = block(d, kernel)
    body = "\n\n".join(blocks[k] for k in sorted(blocks))
    section = f"{SECTION}\n\n{INTRO}\n\n{body}\n"
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("\n" + text[nxt + 1:]
                                         if nxt >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(doc, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
