# SPDX-License-Identifier: GPL-2.0
"""The siphelper netlink ABI for the Python tests, read from the one source,
uapi/linux/siphelper.h, when imported: every enumerator and #define of the
header becomes an attribute (uapi.SIPHELPER_A_STATS, ...), so the tests
carry no copy of a number.

    import uapi
    uapi.SIPHELPER_CMD_GET_STATS
    uapi.stat_names()      # {attribute number: "seen", ...}
"""
import os
import re

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "uapi", "linux", "siphelper.h")


def _parse(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = {}

    def value(expr):
        expr = expr.strip()
        if expr.startswith('"'):
            return expr.strip('"')
        # C integer expressions of the header: literals, names, | << - ( )
        py = re.sub(r"\b[A-Za-z_]\w*\b", lambda m: repr(names[m.group(0)]),
                    expr)
        assert re.fullmatch(r"[\d\s|<>()+\-']*", py), expr
        return eval(py)     # noqa: S307 (digits and operators only)

    for m in re.finditer(r"^#define\s+(SIPHELPER_\w+)\s+(.+)$", text, re.M):
        names[m.group(1)] = value(m.group(2))
    for body in re.findall(r"\benum\s+\w+\s*\{(.*?)\}", text, re.S):
        nxt = 0
        for item in (i.strip() for i in body.split(",")):
            if not item:
                continue
            name, _, expr = item.partition("=")
            name = name.strip()
            names[name] = value(expr) if expr else nxt
            nxt = names[name] + 1
    return names


with open(HEADER) as _f:
    globals().update(_parse(_f.read()))


def stat_names():
    """{SIPHELPER_A_STAT_* number: counter name}, the name being the
    enumerator's suffix in lower case ("seen", "rewritten_hdr", ...)."""
    prefix = "SIPHELPER_A_STAT_"
    return {v: k[len(prefix):].lower() for k, v in globals().items()
            if k.startswith(prefix) and
            k[len(prefix):] not in ("UNSPEC", "PAD", "MAX")}
