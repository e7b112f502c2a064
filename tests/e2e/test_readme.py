# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""The README as a newcomer follows it: its two set-up commands work as
written as root where sudo is missing, and for a user with sudo, where only
the steps that need root go through it; the demo output it shows is what
the demo prints now (python3 tests/e2e/test_readme.py --update remakes it
from a run of the demo); it names only files the project has, its own
reference among them, and every option of every command."""
import difflib
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hs import BUILD, HEAPSNAP, TOP, tmpdir  # noqa: E402

README = os.path.join(TOP, "README.md")
# the checkout and the demo's directory, as the README's demo output names them
DOC_TOP = "/home/you/heapsnap"
DOC_DEMO = "/tmp/heapsnap-demo"
DEMO_MARK = ("<!-- the demo's output: python3 tests/e2e/test_readme.py "
             "--update remakes it -->\n")
COMMANDS = ("record", "top", "diff", "info", "lookup", "export", "flamegraph")


def readme():
    with open(README) as f:
        return f.read()


def setup_commands(text):
    """The commands of the block under "## Two commands"."""
    m = re.search(r"^## Two commands\n.*?^```\n(.*?)^```\n", text,
                  re.M | re.S)
    assert m, "no code block under ## Two commands"
    return [l.split("#")[0].strip() for l in m.group(1).splitlines()
            if l.strip()]


def demo_block(text):
    """(start, end) of the demo output's code block, after its mark."""
    i = text.find(DEMO_MARK)
    assert i >= 0, "README: no mark before the demo's output"
    start = text.index("```\n", i) + 4
    return start, text.index("```\n", start)


def fake_bin(d, name, body):
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return d


def sudo_logger(d, log, rc=0):
    """A sudo that notes its arguments in LOG and does nothing else."""
    return fake_bin(d, "sudo", 'printf "%%s\\n" "$*" >> %s\nexit %d'
                    % (log, rc))


def shell_env(env):
    """env as at a shell: not that of a make under make test."""
    return {k: v for k, v in env.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                         "SAN")}


def san():
    return os.path.basename(BUILD.rstrip("/")) == "build-san"


def run_demo(env):
    """The first set-up command, as written (under SAN=1, the demo script
    it ends with: make demo would build heapsnap again without the
    sanitizers, under the running tests). Its output from the demo's
    first command on, with the checkout and the demo directory as the
    README names them."""
    demo = os.path.join(tmpdir(), "heapsnap-demo")
    env = dict(shell_env(env), DEMO_DIR=demo)
    if san():
        subprocess.run(["make", "-s", "SAN=", "build/demo/server"],
                       cwd=TOP, env=env, check=True, capture_output=True)
        argv = ["scripts/demo"]
    else:
        argv = ["sh", "-c", setup_commands(readme())[0]]
    r = subprocess.run(argv, cwd=TOP, env=env, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    assert r.returncode == 0, r.stdout
    out = r.stdout.replace(demo, DOC_DEMO).replace(TOP, DOC_TOP)
    i = out.find("\n$ ")
    assert i >= 0, out
    return out[i + 1:]


def normalize(text):
    """What may differ from one run of the demo to the next: times, pids,
    counts, sizes, addresses, the kernel; not the lines, the files and
    line numbers, the functions and the source shown."""
    text = re.sub(r"(?m)^(kernel: +).*$", r"\1KERNEL", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "TIME", text)
    text = re.sub(r"0x[0-9a-f]+", "HEX", text)
    text = re.sub(r"\b\d+(\.\d+)? (B|KiB|MiB|GiB|TiB)\b", "SIZE", text)
    return re.sub(r"(?<![:\w.])\d+(\.\d+)*", "N", text)


def test_the_two_commands_as_root_without_sudo():
    """make demo, as written, as root with no sudo to be had (a sudo on
    PATH notes any call: there must be none) ends with the demo output
    the README shows; make test runs the suite as it is."""
    cmds = setup_commands(readme())
    assert cmds == ["make demo", "make test"], cmds
    log = os.path.join(tmpdir(), "sudo.log")
    env = dict(shell_env(os.environ),
               PATH=sudo_logger(os.path.join(tmpdir(), "bin"), log) + ":" +
               os.environ["PATH"])
    out = run_demo(env)
    assert not os.path.exists(log), open(log).read()
    text = readme()
    start, end = demo_block(text)
    shown = text[start:end]
    assert normalize(out) == normalize(shown), (
        "the README's demo output is not what the demo prints now "
        "(python3 tests/e2e/test_readme.py --update remakes it):\n" +
        "".join(difflib.unified_diff(
            normalize(shown).splitlines(True),
            normalize(out).splitlines(True), "README.md", "make demo")))
    # the demo's snapshots are root's: no sudo, no one else to give them to
    r = subprocess.run(["make", "-n", "test"] +
                       (["SAN=1"] if san() else []), cwd=TOP, text=True,
                       capture_output=True, env=env, timeout=120)
    assert r.returncode == 0, r
    assert r.stdout.splitlines()[-1] == (
        "scripts/asroot scripts/run-tests %s/tests"
        % os.path.basename(BUILD.rstrip("/"))), r.stdout


def test_as_a_user_only_what_needs_root_goes_through_sudo():
    from test_sudo import dir_of, unprivileged_user
    with unprivileged_user() as pw:
        d = dir_of(pw)
        log = os.path.join(d, "sudo.log")

        def as_user(argv, path, **env):
            e = {"PATH": path, "HOME": d, "LANG": "C.UTF-8"}
            e.update(env)
            return subprocess.run(argv, cwd=TOP, env=e, text=True,
                                  capture_output=True, timeout=120,
                                  user=pw.pw_uid, group=pw.pw_gid,
                                  extra_groups=[])

        def calls():
            if not os.path.exists(log):
                return []
            with open(log) as f:
                lines = f.read().splitlines()
            os.unlink(log)
            return lines

        bin_ = sudo_logger(os.path.join(d, "bin"), log)
        path = bin_ + ":/usr/bin:/bin"
        r = as_user(["scripts/asroot", "id", "-u"], path)
        assert (r.returncode, r.stdout) == (0, ""), r
        assert calls() == ["-- id -u"]
        # as root, the command itself
        r = subprocess.run(["scripts/asroot", "id", "-u"], cwd=TOP,
                           text=True, capture_output=True,
                           env=dict(os.environ, PATH=path))
        assert (r.returncode, r.stdout, calls()) == (0, "0\n", []), r
        # no sudo at all: one line that says so
        nosudo = os.path.join(d, "nosudo")
        os.mkdir(nosudo)
        for tool in ("bash", "id", "env"):
            os.symlink(subprocess.run(["which", tool], text=True,
                                      capture_output=True).stdout.strip(),
                       os.path.join(nosudo, tool))
        r = as_user(["scripts/asroot", "id", "-u"], nosudo)
        assert (r.returncode, r.stdout) == (1, ""), r
        assert r.stderr == ("id: needs root, and sudo is not installed: "
                            "run it as root\n"), r
        # the packages: installed through sudo when some are missing
        fake_bin(bin_, "dpkg-query", "exit 1")
        r = as_user(["scripts/deps"], path)
        assert r.returncode == 0, r
        assert calls() == ["-- scripts/deps"], r
        # the demo: the recording alone (a sudo that refuses stops it)
        sudo_logger(bin_, log, rc=1)
        demo = os.path.join(d, "demo")
        r = as_user(["scripts/demo"], path, DEMO_DIR=demo)
        rec = ("./heapsnap record -i 1 -o %s/demo.hsnap -- "
               "build/demo/server 2.5" % demo)
        assert r.returncode == 1 and r.stdout == "\n$ sudo %s\n" % rec, r
        assert calls() == ["-- " + rec]
        # the tests: built as the user, run through sudo
        r = as_user(["make", "-n", "test"] + (["SAN=1"] if san() else []),
                    path)
        assert r.stdout.splitlines()[-1].startswith(
            "scripts/asroot scripts/run-tests "), r


def option_forms(cmd):
    """[(long, short or None)] of a command's --help."""
    r = subprocess.run([HEAPSNAP, cmd, "--help"], text=True,
                       capture_output=True, timeout=60)
    forms = []
    for line in r.stdout.splitlines():
        m = re.match(r"^  (?:(-\w), )?(--[a-z0-9-]+)", line)
        if m and m.group(2) != "--help":
            forms.append((m.group(2), m.group(1)))
        elif re.match(r"^  (-\w)\s", line):
            forms.append((re.match(r"^  (-\w)", line).group(1), None))
    assert forms, (cmd, r)
    return forms


def test_the_readme_names_every_option_of_every_command():
    text = readme()
    missing = []
    for cmd in COMMANDS:
        for opt, short in option_forms(cmd):
            if not any(o and re.search(r"(?<![\w-])%s(?![\w-])"
                                       % re.escape(o), text)
                       for o in (opt, short)):
                missing.append("%s %s" % (cmd, opt))
    assert missing == [], "README: options not mentioned: %s" % missing


def test_the_readme_names_only_files_of_the_project():
    """No path outside the checkout; each of the project's paths there
    exists; the reference it points to is the man page, which a clone
    has."""
    text = readme()
    tracked = subprocess.run(["git", "ls-files"], cwd=TOP, text=True,
                             capture_output=True).stdout.split()
    dirs = {p.split("/")[0] for p in tracked if "/" in p}
    bad = []
    for m in re.finditer(r"`([^`\s]+)`(\s+in\s+[\w.-]+/[\w.-]+)?", text):
        p = m.group(1)
        if p.startswith("../"):
            bad.append(p)
        elif (p.split("/")[0] in dirs and "/" in p and not m.group(2) and
              not glob.glob(os.path.join(TOP, p))):
            bad.append(p)
    assert bad == [], "README: paths not in the project: %s" % bad
    assert re.search(r"[Tt]he reference is the man page,\s+"
                     r"`man/heapsnap\.1`", text), \
        "README: the man page is not named as the reference"


def update():
    """Runs the demo and writes its output into the README."""
    text = readme()
    start, end = demo_block(text)
    out = run_demo(dict(os.environ))
    with open(README, "w") as f:
        f.write(text[:start] + out + text[end:])
    print("README.md: the demo's output remade")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: test_readme.py --update")
    import hs
    try:
        update()
    finally:
        hs.cleanup()
