# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Under sudo (SUDO_UID and SUDO_GID set), the snapshot files record writes
are the invoking user's, still 0600 and written through a temporary file:
their next step, heapsnap top without sudo, reads them. Tested with a real
unprivileged user, made for the test and removed after it."""
import contextlib
import json
import os
import pwd
import secrets
import stat
import subprocess

from hs import HEAPSNAP, Recorder, Target, tmpdir


@contextlib.contextmanager
def unprivileged_user():
    """A user of its own (and its group), gone when the test ends."""
    name = "hstest%s" % secrets.token_hex(3)
    subprocess.run(["useradd", "--no-create-home", "--user-group", "--shell",
                    "/bin/sh", name], check=True, capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def dir_of(pw):
    """A temporary directory of the user's own."""
    d = tmpdir()
    os.chmod(d, 0o755)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    return d


def record_phase1(out, env):
    """gt_basic's first phase, as FILE.1 (SIGUSR1) and FILE (the end)."""
    t = Target("gt_basic")
    rec = Recorder(["-p", str(t.pid), "-o", out], env=env)
    rec.wait_attached()
    t.next_phase(1)
    rec.snapshot(1)
    assert rec.stop() == 0, rec.stderr()
    return t.out.seen


def owner(path):
    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode), path
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def test_snapshots_under_sudo_go_to_the_invoking_user():
    with unprivileged_user() as pw:
        d = dir_of(pw)
        out = os.path.join(d, "app.hsnap")
        env = dict(os.environ, SUDO_UID=str(pw.pw_uid),
                   SUDO_GID=str(pw.pw_gid), SUDO_USER=pw.pw_name)
        record_phase1(out, env)
        for f in (out + ".1", out):
            assert owner(f) == (pw.pw_uid, pw.pw_gid, 0o600), (f, owner(f))
        # nothing else there: the temporary files were renamed
        assert sorted(os.listdir(d)) == ["app.hsnap", "app.hsnap.1"]
        # the next step, as that user, without sudo
        r = subprocess.run(["runuser", "-u", pw.pw_name, "--", HEAPSNAP,
                            "top", out + ".1", "--json", "--include",
                            "*/gt_basic.c"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r
        assert json.loads(r.stdout)["total"]["count"] > 0, r.stdout


def test_without_sudo_or_with_a_bad_uid_snapshots_stay_roots():
    for env in (
            {},
            {"SUDO_UID": "0", "SUDO_GID": "0"},
            {"SUDO_UID": "12x", "SUDO_GID": "34"},
            {"SUDO_UID": "", "SUDO_GID": ""},
    ):
        d = tmpdir()
        out = os.path.join(d, "app.hsnap")
        e = {k: v for k, v in os.environ.items() if not k.startswith("SUDO_")}
        e.update(env)
        record_phase1(out, e)
        for f in (out + ".1", out):
            assert owner(f) == (0, 0, 0o600), (env, f, owner(f))
