# SPDX-License-Identifier: GPL-2.0
"""The siphelperctl binary for the control-plane tests: its path comes from
$SIPHELPERCTL; tests using the `ctl` fixture are skipped when it is unset."""
import json
import os
import subprocess

import pytest


class Ctl:
    def __init__(self, path):
        self.path = path

    def run(self, *args, netns=None, prefix=""):
        """Run siphelperctl ARGS (optionally inside `ip netns exec`, or
        behind a PREFIX command such as setpriv). Returns CompletedProcess."""
        cmd = [self.path, *args]
        if prefix:
            cmd = prefix.split() + cmd
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        return subprocess.run(cmd, text=True, capture_output=True)

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
