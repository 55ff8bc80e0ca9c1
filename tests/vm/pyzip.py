#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""tests/vm/pyzip.py CACHEDIR SUITEDIR: one zip of the compiled Python
modules the test VM's python3 imports (pytest, scapy and the standard
library they and the suite in SUITEDIR use); prints its path.

Why: the guest reads the host root over 9p, where every file a module
import opens costs round trips through an emulated (and on the debug
kernel, KASAN- and lockdep-instrumented) 9p client: `import pytest,
scapy.all` took ~115 s there with cold caches, ~1 200 files. From one zip
file on PYTHONPATH (tests/vm/run sets it) zipimport reads them from the
page cache instead. Whole top-level packages go in (a package found in
the zip looks for its submodules there only), and none that holds an
extension module (those cannot load from a zip); what is not in the zip
imports from disk as before. The zip is cached under a key made of every
source's path, size and mtime, so a package upgrade makes a new one."""
import hashlib
import importlib.util
import marshal
import os
import subprocess
import sys
import zipfile

ROOTS = ("/usr/lib/python3.%d" % sys.version_info.minor,
         "/usr/lib/python3/dist-packages")
SKIP = {"site-packages", "lib-dynload", "dist-packages", "test",
        "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip"}

# What the suite imports: pytest with its plugins, scapy, every module of
# the suite (their imports, at least; import errors do not matter here).
PROBE = """
import importlib, os, sys
sys.path.insert(0, sys.argv[1])
import pytest, _pytest.config, _pytest.junitxml, scapy.all
for f in sorted(os.listdir(sys.argv[1])):
    if f.endswith(".py"):
        try:
            importlib.import_module(f[:-3])
        except BaseException:
            pass
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if f:
        print(f)
"""


def top_levels(suite):
    out = subprocess.run([sys.executable, "-c", PROBE, suite],
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, SIPHELPER_IN_VM=""),
                         cwd="/").stdout
    tops = set()
    for f in out.split():
        for root in ROOTS:
            if f.startswith(root + "/"):
                top = f[len(root) + 1:].split("/")[0]
                if top not in SKIP and not top.endswith(".so"):
                    tops.add((root, top))
    return tops


def sources(root, top):
    """The .py files of ROOT/TOP (a module or a package tree), or None
    when the tree holds an extension module."""
    path = os.path.join(root, top)
    if top.endswith(".py"):
        return [path]
    files = []
    for d, dirs, names in os.walk(path):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        for n in names:
            if n.endswith((".so", ".pyd")):
                return None
            if n.endswith(".py"):
                files.append(os.path.join(d, n))
    return files


def pyc(src):
    """The compiled module: the installed .pyc if current, else compiled
    now (sourceless in the zip: zipimport then skips the mtime check)."""
    st = os.stat(src)
    cached = importlib.util.cache_from_source(src)
    try:
        with open(cached, "rb") as f:
            data = f.read()
        flags = int.from_bytes(data[4:8], "little")
        if data[:4] == importlib.util.MAGIC_NUMBER and flags == 0 and \
                int.from_bytes(data[8:12], "little") == \
                int(st.st_mtime) & 0xffffffff:
            return data
    except OSError:
        pass
    with open(src, "rb") as f:
        code = compile(f.read(), src, "exec", dont_inherit=True)
    return (importlib.util.MAGIC_NUMBER + b"\0\0\0\0" +
            (int(st.st_mtime) & 0xffffffff).to_bytes(4, "little") +
            (st.st_size & 0xffffffff).to_bytes(4, "little") +
            marshal.dumps(code))


def main():
    cache, suite = sys.argv[1], os.path.abspath(sys.argv[2])
    entries = []
    for root, top in sorted(top_levels(suite)):
        files = sources(root, top)
        if files:
            entries += [(root, f) for f in files]
    key = hashlib.sha256(sys.version.encode())
    for root, f in entries:
        st = os.stat(f)
        key.update(f"{f} {st.st_size} {st.st_mtime_ns}\n".encode())
    path = os.path.join(cache, f"py-{key.hexdigest()[:16]}.zip")
    if not os.path.exists(path):
        os.makedirs(cache, exist_ok=True)
        tmp = f"{path}.{os.getpid()}"
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
            for root, f in entries:
                rel = os.path.relpath(f, root)[:-3] + ".pyc"
                z.writestr(rel, pyc(f))
        os.replace(tmp, path)
    print(path)


if __name__ == "__main__":
    main()
