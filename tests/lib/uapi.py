# SPDX-License-Identifier: GPL-2.0
"""The siphelper netlink ABI for the Python tests, read when imported from
uapi/linux/siphelper.h, the header generated from the family's spec
(uapi/siphelper.yaml): every enumerator and #define of the header becomes
an attribute (uapi.SIPHELPER_A_STATS, ...), so the tests carry no copy of
a number. spec() is the spec itself (what test_control.py checks the
kernel's policy against).

    import uapi
    uapi.SIPHELPER_CMD_GET_STATS
    uapi.stat_names()      # {attribute number: "seen", ...}
    uapi.spec()            # uapi/siphelper.yaml, parsed
    uapi.kernel("linux/netlink.h").NLM_F_REQUEST   # the kernel's own
"""
import os
import re
import types

UAPI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "uapi")
HEADER = os.path.join(UAPI, "linux", "siphelper.h")
SPEC = os.path.join(UAPI, "siphelper.yaml")


def _parse(text, strict=True, known=None):
    """{name: value} of the #defines and enumerators of a C header. Strict
    (siphelper's header): every #define is SIPHELPER_* and evaluates. Not
    strict (the kernel's own headers): what does not evaluate is left out
    (function-like macros, #define X X after an enumerator)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = dict(known or {})     # earlier headers' names, usable here

    def value(expr):
        expr = expr.strip()
        if expr.startswith('"'):
            return expr.strip('"')
        # C integer expressions of the header: literals, names, | << - ( )
        py = re.sub(r"\b(?!0x)[A-Za-z_]\w*\b",
                    lambda m: repr(names[m.group(0)]), expr)
        py = re.sub(r"\b(0x[0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", py)
        assert re.fullmatch(r"[\dxa-fA-F\s|<>()+\-']*", py), expr
        return eval(py)     # noqa: S307 (digits and operators only)

    for body in re.findall(r"\benum\s+\w*\s*\{(.*?)\}", text, re.S):
        nxt = 0
        body = re.sub(r"^\s*#.*$", "", body, flags=re.M)
        for item in (i.strip() for i in body.split(",")):
            if not item:
                continue
            name, _, expr = item.partition("=")
            name = name.strip()
            try:
                names[name] = value(expr) if expr else nxt
            except (AssertionError, KeyError, SyntaxError):
                if strict:
                    raise
                continue
            nxt = names[name] + 1
    pat = r"^#define\s+(SIPHELPER_\w+)\s+(.+)$" if strict else \
        r"^#define\s+([A-Z_][A-Z0-9_]*)[ \t]+(\S.*)$"
    for m in re.finditer(pat, text, re.M):
        if m.group(1) in names:
            continue
        try:
            names[m.group(1)] = value(m.group(2))
        except (AssertionError, KeyError, SyntaxError):
            if strict:
                raise
    return names


with open(HEADER) as _f:
    globals().update(_parse(_f.read()))


def kernel(*headers):
    """The constants of the kernel's own uapi headers (as installed in
    /usr/include, e.g. "linux/netlink.h"), as attributes of one object:
    the tests' netlink and ctnetlink numbers come from there too."""
    names = {}
    for h in headers:
        with open(os.path.join("/usr/include", h)) as f:
            names.update(_parse(f.read(), strict=False, known=names))
    return types.SimpleNamespace(**names)


def stat_names():
    """{SIPHELPER_A_STAT_* number: counter name}, the name being the
    enumerator's suffix in lower case ("seen", "rewritten_headers", ...)."""
    prefix = "SIPHELPER_A_STAT_"
    return {v: k[len(prefix):].lower() for k, v in globals().items()
            if k.startswith(prefix) and
            k[len(prefix):] not in ("UNSPEC", "PAD", "MAX")}


def stat_gauges():
    """Names of the stats attributes that are not counters (their spec doc
    says so): what a test reads as it is, never as a difference."""
    sets = {s["name"]: s for s in spec()["attribute-sets"]}
    return {a["name"].replace("-", "_") for a in sets["stat"]["attributes"]
            if a.get("doc", "").startswith("Not a counter")}


def spec():
    """The family's YNL spec, uapi/siphelper.yaml, as parsed YAML."""
    import yaml
    with open(SPEC) as f:
        return yaml.safe_load(f)
