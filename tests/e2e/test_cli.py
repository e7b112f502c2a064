# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""The command line around the commands: heapsnap alone is a usage error
like any other, its --help names every option it takes, and the options
several commands share are described the same way in each one's --help."""
import re
import subprocess

from hs import HEAPSNAP


def no_root(fn):
    fn.no_root = True
    return fn


def call(argv):
    return subprocess.run(argv, text=True, capture_output=True, timeout=60)


@no_root
def test_no_command_is_a_usage_error():
    """An "Error: " line first, then the usage, on stderr; exit 2."""
    r = call([HEAPSNAP])
    assert r.returncode == 2 and r.stdout == "", r
    lines = r.stderr.splitlines()
    assert lines[0].startswith("Error: ") and len(lines[0]) > 7, r.stderr
    assert lines[1] == "Usage: heapsnap COMMAND [ARGS...]", r.stderr
    assert r.stderr.split("\n", 1)[1] == call([HEAPSNAP, "--help"]).stdout


@no_root
def test_help_names_every_option_of_heapsnap():
    r = call([HEAPSNAP, "--help"])
    assert r.returncode == 0 and r.stderr == "", r
    for opt in ("-h, --help", "-V, --version"):
        assert re.search(r"^  %s  " % opt, r.stdout, re.M), (opt, r.stdout)
    for argv in (["-V"], ["--version"]):
        assert re.match(r"^heapsnap \d", call([HEAPSNAP] + argv).stdout)


def option_lines(cmd):
    """{option: its --help text, continuation lines included}."""
    out, cur = {}, None
    for line in call([HEAPSNAP, cmd, "--help"]).stdout.splitlines():
        m = re.match(r"^  (?:-\w, )?(--[a-z-]+|-\w)\b", line)
        if m:
            cur = m.group(1)
            out[cur] = line
        elif cur and re.match(r"^ {25}\S", line):
            out[cur] += "\n" + line
        else:
            cur = None
    return out


@no_root
def test_shared_options_read_the_same_in_every_command():
    filters = ("--include", "--exclude", "--all-frames", "--domain")
    processes = ("--pid", "--comm")
    want = option_lines("top")
    for cmd, opts in (("diff", filters + processes),
                      ("export", filters), ("flamegraph", filters)):
        got = option_lines(cmd)
        for opt in opts:
            assert got.get(opt) == want[opt], (cmd, opt, got.get(opt))
        for opt in set(processes) - set(opts):
            assert opt not in got, (cmd, opt)
