# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""The conventions around the commands: the man page renders and documents
exactly the options each command's --help prints, the bash completion
offers them and their values, make install puts both in place, every
command has --help, every command with a result has --json, and the exit
status is 0, 1 or 2 as documented. Options are read from the --help texts,
so an option added anywhere must be documented and completed."""
import json
import os
import re
import shlex
import shutil
import stat
import subprocess

from hs import HEAPSNAP, TOP, Skip, run, spawn, tmpdir

MAN = os.path.join(TOP, "man", "heapsnap.1")
COMPLETION = os.path.join(TOP, "completion", "heapsnap.bash")
README = os.path.join(TOP, "README.md")
SEED = os.path.join(TOP, "tests", "fuzz", "corpus", "fuzz_analyze",
                    "real-gt_basic.hsnap")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"

# An option at the start of a --help line, with its value if it takes one.
HELP_OPT = re.compile(r"^ {1,8}(?:(-[A-Za-z0-9])(?:, (--[a-z][a-z0-9-]*))?|"
                      r"(--[a-z][a-z0-9-]*))( \S+)?")
LONG_OPT = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def no_root(fn):
    fn.no_root = True
    return fn


def call(argv, **kw):
    return subprocess.run(argv, text=True, capture_output=True, timeout=60,
                          **kw)


def commands():
    """The commands `heapsnap --help` lists."""
    out = run([HEAPSNAP, "--help"]).stdout
    cmds = re.findall(r"^  ([a-z]+) ", out.split("Commands:", 1)[1], re.M)
    assert len(cmds) >= 7, out
    return cmds


def help_options(cmd):
    """{option name: its value in --help ('' for a flag)}, -x and --long."""
    opts = {}
    for line in run([HEAPSNAP, cmd, "--help"]).stdout.splitlines():
        m = HELP_OPT.match(line)
        if m:
            value = (m.group(4) or "").strip()
            for name in m.group(1, 2, 3):
                if name:
                    opts[name] = value
    assert "--help" in opts, (cmd, opts)
    return opts


def roff_text(s):
    """Roff source -> plain text: hyphens, fonts, quotes and specials."""
    s = s.replace("\\-", "-").replace("\\%", "").replace("\\e", "\\")
    s = re.sub(r"\\f[BIRP]", "", s)
    return re.sub(r"\\\((aq|dq)", lambda m: "'" if m.group(1) == "aq"
                  else '"', s)


def man_sections():
    """{section name: roff source}."""
    parts = re.split(r"^\.SH ", open(MAN).read(), flags=re.M)
    return {p.split("\n", 1)[0].strip('"'): p for p in parts[1:]}


def man_options():
    """{command: options of its .TP entries} under COMMANDS."""
    out = {}
    for part in re.split(r'^\.SS "heapsnap ', man_sections()["COMMANDS"],
                         flags=re.M)[1:]:
        cmd = part.split('"', 1)[0]
        lines = part.splitlines()
        names = set()
        for i, line in enumerate(lines[:-1]):
            if line == ".TP":
                names |= set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|"
                                        r"-[A-Za-z0-9])(?![\w-])",
                                        roff_text(lines[i + 1])))
        out[cmd] = names
    return out


def complete(words, cwd=None, wordbreaks=None):
    """COMPREPLY of the completion for words; the last is being typed."""
    script = r'''
source "$1"; shift
[[ -n $BREAKS ]] && COMP_WORDBREAKS=$BREAKS
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
_heapsnap "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
for w in "${COMPREPLY[@]}"; do printf '%s\n' "$w"; done
'''
    env = dict(os.environ, BREAKS=wordbreaks or "")
    r = call(["bash", "--norc", "--noprofile", "-c", script, "bash",
              COMPLETION] + words, cwd=cwd, env=env)
    assert r.returncode == 0 and r.stderr == "", (words, r)
    return r.stdout.splitlines()


def one_line_error(r, rc, what):
    desc = "%s: exit %d\nstdout: %r\nstderr: %r" % (what, r.returncode,
                                                    r.stdout, r.stderr)
    assert r.returncode == rc, desc
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), desc
    return lines[0]


def error_words(argv):
    """The choices a usage error lists: '(a, b, c)' or 'takes a, b or c'."""
    err = one_line_error(call(argv), 2, " ".join(argv))
    m = re.search(r"\(([^()]*)\)$", err) or re.search(r"takes (.*)$", err)
    assert m, err
    return set(re.split(r",\s*|\s+or\s+", m.group(1)))


def snapshot_dir():
    """A directory with snapshots, numbered ones, other files and a dir."""
    d = tmpdir()
    for name in ("a.hsnap", "a.hsnap.1", "a.hsnap.12", "b.hsnap.x",
                 "notes.txt"):
        shutil.copy(SEED, os.path.join(d, name))
    os.mkdir(os.path.join(d, "sub"))
    return d


@no_root
def test_man_page_renders_without_warnings():
    r = call(["groff", "-man", "-Tutf8", "-ww", "-z", MAN])
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = call(["man", "-l", MAN], env=dict(os.environ, MANWIDTH="80"))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    text = r.stdout
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS",
                    "SNAPSHOTS", "FILTERS", "JSON OUTPUT", "EXIT STATUS",
                    "REQUIREMENTS", "FILES", "EXAMPLES", "SEE ALSO"):
        assert re.search(r"^%s$" % section, text, re.M), section
    assert set(man_options()) == set(commands())
    version = run([HEAPSNAP, "--version"]).stdout.strip()
    th = open(MAN).read().split("\n.TH ", 1)[1].split("\n", 1)[0]
    assert '"%s"' % version in th, (version, th)


@no_root
def test_man_page_documents_every_option():
    """Each command's .TP entries are exactly its --help options (-h and
    --help are said once for all), and no other long option is named."""
    documented = man_options()
    known = {"--help", "--version"}
    for cmd in commands():
        opts = set(help_options(cmd)) - {"-h", "--help"}
        known |= opts
        assert documented[cmd] == opts, (
            "%s: in --help, not in the man page: %s; in the man page, not "
            "in --help: %s" % (cmd, sorted(opts - documented[cmd]),
                               sorted(documented[cmd] - opts)))
    named = set(LONG_OPT.findall(roff_text(open(MAN).read())))
    assert named <= known, "unknown options: %s" % sorted(named - known)
    assert re.search(r"^\.BR \\-h ,\\~ \\-\\-help ,$", open(MAN).read(),
                     re.M)


def example_lines():
    """(where, line) of each heapsnap command line in the README's code
    blocks and the man page's EXAMPLES."""
    out = []
    blocks = open(README).read().split("```")[1::2]
    for block in blocks:
        out += [("README.md", l) for l in block.splitlines()]
    man = roff_text(man_sections()["EXAMPLES"]).replace("\\\n", " ")
    out += [("heapsnap.1", l) for l in man.splitlines()]
    return [(w, l) for w, l in out
            if re.match(r"^(\$ )?(sudo )?(\./)?heapsnap [a-z]", l)]


@no_root
def test_examples_use_real_options():
    """Every option in a documented example is one its command takes."""
    lines = example_lines()
    assert len(lines) >= 20, lines
    cmds = {c: help_options(c) for c in commands()}
    for where, line in lines:
        try:
            words = shlex.split(line.lstrip("$ "), comments=True)
        except ValueError:  # a screen shot, not a command
            words = line.lstrip("$ ").split()
        words = words[words.index(next(w for w in words
                                       if w.endswith("heapsnap"))) + 1:]
        assert words[0] in cmds, (where, line)
        for w in words[1:]:
            if w == "--":
                break
            if w.startswith("-") and not re.match(r"^-(\d|$)", w):
                assert w.split("=")[0] in cmds[words[0]], (where, line, w)


@no_root
def test_completion_offers_each_commands_options():
    cmds = commands()
    assert complete(["heapsnap", ""]) == cmds
    assert complete(["heapsnap", "to"]) == ["top"]
    assert sorted(complete(["heapsnap", "-"])) == sorted(
        ["-h", "--help", "-V", "--version"])
    for cmd in cmds:
        opts = set(help_options(cmd))
        got = complete(["heapsnap", cmd, "-"])
        assert len(got) == len(set(got)), (cmd, got)
        assert set(got) == opts, (
            "%s: in --help, not completed: %s; completed, not in --help: %s"
            % (cmd, sorted(opts - set(got)), sorted(set(got) - opts)))
        assert set(complete(["heapsnap", cmd, "--"])) == {
            o for o in opts if o.startswith("--")}
    assert complete(["heapsnap", "top", "--b"]) == ["--by"]


@no_root
def test_completion_knows_which_options_take_values():
    """After a flag comes a snapshot; after an option that takes a FILE,
    OUT or PATH, any file; after any other value, no file."""
    d = snapshot_dir()
    for cmd in commands():
        for opt, value in help_options(cmd).items():
            got = complete(["heapsnap", cmd, opt, ""], cwd=d)
            what = "%s %s (%r): %s" % (cmd, opt, value, got)
            if not value:
                want = [] if cmd == "record" else ["a.hsnap"]
                assert all(w in got for w in want), what
                assert "notes.txt" not in got, what
            elif value in ("FILE", "OUT", "PATH"):
                assert "notes.txt" in got and "a.hsnap" in got, what
            else:
                assert "a.hsnap" not in got and "notes.txt" not in got, what


@no_root
def test_completion_values_are_the_programs():
    """--by, --domain, --format and --unwind complete exactly the
    values whose absence heapsnap's own usage errors list."""
    snap = SEED
    cases = [(["top", snap, "--by"], "bogus", "top"),
             (["diff", snap, snap, "--by"], "bogus", "diff"),
             (["top", snap, "--domain"], "bogus", "top"),
             (["export", snap, "--domain"], "bogus", "export"),
             (["export", snap, "--format"], "bogus", "export"),
             (["flamegraph", snap, "-o", "/dev/null", "--format"], "bogus",
              "flamegraph"),
             (["record", "-p", "1", "--unwind"], "bogus", "record")]
    for args, bad, cmd in cases:
        want = error_words([HEAPSNAP] + args + [bad])
        got = complete(["heapsnap", cmd, args[-1], ""])
        assert set(got) == want and len(got) == len(want), (args, got, want)
    assert complete(["heapsnap", "top", "--by", "t"]) == ["traceback"]
    # --by=tr, split at '=' by COMP_WORDBREAKS or not
    assert complete(["heapsnap", "top", "--by", "=", "tr"],
                    wordbreaks=" \t\n\"'=:") == ["traceback"]
    assert complete(["heapsnap", "top", "--by", "="],
                    wordbreaks=" \t\n\"'=:")[0] == "lineno"
    assert complete(["heapsnap", "top", "--by=tr"],
                    wordbreaks=" \t\n") == ["--by=traceback"]


@no_root
def test_completion_of_pids_and_files():
    sleeper = spawn(["sleep", "60"])
    pid = str(sleeper.pid)
    for words in (["record", "-p"], ["record", "--pid"], ["top", "-p"],
                  ["top", "--live"]):
        got = complete(["heapsnap"] + words + [""])
        assert pid in got and all(p.isdigit() for p in got), (words, got)
    got = complete(["heapsnap", "record", "-p", "1," + pid[:-1]])
    assert "1," + pid in got, got
    # --pid of top and diff: the processes of the snapshot given
    pids = [str(p) for p in json.loads(run([HEAPSNAP, "info", SEED,
                                            "--json"]).stdout)["pids"]]
    assert complete([HEAPSNAP, "top", SEED, "--pid", ""]) == pids
    d = snapshot_dir()
    snaps = ["a.hsnap", "a.hsnap.1", "a.hsnap.12", "sub"]
    for words in (["top"], ["info"], ["export"], ["flamegraph"],
                  ["lookup"], ["diff"], ["diff", "a.hsnap"],
                  ["flamegraph", "a.hsnap"], ["top", "--by", "module"]):
        got = complete(["heapsnap"] + words + [""], cwd=d)
        assert sorted(got) == snaps, (words, got)
    got = complete(["heapsnap", "top", "a.hsnap.1"], cwd=d)
    assert sorted(got) == ["a.hsnap.1", "a.hsnap.12"], got
    for words in (["top", "a.hsnap"], ["diff", "a.hsnap", "a.hsnap.1"],
                  ["lookup", "a.hsnap"], ["top", "-p", pid],
                  ["record"]):
        assert complete(["heapsnap"] + words + [""], cwd=d) == [], words
    got = complete(["heapsnap", "record", "-o", "no"], cwd=d)
    assert got == ["notes.txt"], got
    assert "sleep" in complete(["heapsnap", "record", "--", "slee"])
    got = complete(["heapsnap", "record", "--", "sleep", "no"], cwd=d)
    assert got == ["notes.txt"], got


def install(dest):
    run(["make", "-s", "-C", TOP, "install", "DESTDIR=" + dest,
         "PREFIX=/usr"], timeout=600)


@no_root
def test_make_install_and_uninstall():
    d = tmpdir()
    install(d)
    want = {"usr/bin/heapsnap": (0o755, HEAPSNAP),
            "usr/share/man/man1/heapsnap.1": (0o644, MAN),
            "usr/share/bash-completion/completions/heapsnap":
                (0o644, COMPLETION)}
    got = {}
    for root, _, files in os.walk(d):
        for f in files:
            path = os.path.join(root, f)
            got[os.path.relpath(path, d)] = path
    assert sorted(got) == sorted(want), sorted(got)
    for rel, (mode, src) in want.items():
        st = os.stat(got[rel])
        assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == mode, (
            rel, oct(st.st_mode))
        assert open(got[rel], "rb").read() == open(src, "rb").read(), rel
    r = call(["man", "-w", "heapsnap"],
             env=dict(os.environ, MANPATH=os.path.join(d, "usr/share/man")))
    assert r.stdout.strip() == got["usr/share/man/man1/heapsnap.1"], r
    r = call([got["usr/bin/heapsnap"], "--version"])
    assert r.returncode == 0 and r.stdout.startswith("heapsnap "), r
    run(["make", "-s", "-C", TOP, "uninstall", "DESTDIR=" + d,
         "PREFIX=/usr"])
    left = [f for _, _, files in os.walk(d) for f in files]
    assert left == [], left


@no_root
def test_bash_completion_loads_the_installed_script():
    """bash-completion finds the installed file by the command's name, and
    what it loads completes."""
    if not os.path.exists(BASH_COMPLETION):
        raise Skip("bash-completion is not installed (make deps)")
    d = tmpdir()
    install(d)
    share = os.path.join(d, "usr", "share")
    script = r'''
source "$1"
__load_completion heapsnap || exit 3
complete -p heapsnap
shopt -s extdebug; declare -F _heapsnap
COMP_WORDS=(heapsnap top --by ''); COMP_CWORD=3
_heapsnap heapsnap '' --by; echo "${COMPREPLY[*]}"
'''
    env = dict(os.environ, HOME=d, XDG_DATA_DIRS=share)
    env.pop("XDG_DATA_HOME", None)
    env.pop("BASH_COMPLETION_USER_DIR", None)
    r = call(["bash", "--norc", "--noprofile", "-c", script, "bash",
              BASH_COMPLETION], env=env)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "complete -F _heapsnap heapsnap", r.stdout
    assert lines[1].endswith(os.path.join(
        share, "bash-completion", "completions", "heapsnap")), r.stdout
    assert lines[2] == "lineno filename function module traceback process", \
        r.stdout


@no_root
def test_every_command_has_help():
    for argv in (["--help"], ["-h"], ["help"]):
        r = call([HEAPSNAP] + argv)
        assert r.returncode == 0 and r.stdout.startswith(
            "Usage: heapsnap COMMAND") and r.stderr == "", (argv, r)
    for cmd in commands():
        for flag in ("--help", "-h"):
            r = call([HEAPSNAP, cmd, flag])
            assert r.returncode == 0 and r.stderr == "", (cmd, flag, r)
            assert r.stdout.startswith("Usage: heapsnap " + cmd), r.stdout
    r = call([HEAPSNAP, "--version"])
    assert r.returncode == 0 and re.match(r"^heapsnap \d+\.\d+\.\d+\n$",
                                          r.stdout), r


@no_root
def test_every_command_with_a_result_has_json():
    """record writes files and prints no result: every other command takes
    --json and prints one JSON object."""
    d = snapshot_dir()
    snap = os.path.join(d, "a.hsnap")
    cases = {
        "top": (["top", snap], 0, "stats"),
        "diff": (["diff", snap, snap], 0, "stats"),
        "info": (["info", snap], 0, "current"),
        "lookup": (["lookup", snap, "0x1"], 1, "found"),
        "export": (["export", snap, "--format", "folded"], 0, "stacks"),
        "flamegraph": (["flamegraph", snap, "-o",
                        os.path.join(d, "f.svg")], 0, "frames"),
    }
    with_json = {c for c in commands() if "--json" in help_options(c)}
    assert with_json == set(commands()) - {"record"}, with_json
    assert set(cases) == with_json
    for cmd, (args, rc, field) in cases.items():
        r = call([HEAPSNAP] + args + ["--json"])
        assert r.returncode == rc and r.stderr == "", (cmd, r)
        assert len(r.stdout.splitlines()) == 1, (cmd, r.stdout)
        assert field in json.loads(r.stdout), (cmd, r.stdout)
        r = call([HEAPSNAP] + args + ["--json", "--bogus"])
        assert r.returncode == 2 and r.stderr == "", (cmd, r)
        assert list(json.loads(r.stdout)) == ["error"], (cmd, r.stdout)


@no_root
def test_exit_status():
    """0 success, 1 error (one line) or lookup found nothing, 2 usage
    error (one line), for every command."""
    d = snapshot_dir()
    snap = os.path.join(d, "a.hsnap")
    missing = os.path.join(d, "missing.hsnap")
    r = call([HEAPSNAP])
    assert r.returncode == 2 and r.stderr.startswith("Error: ") and \
        r.stderr.splitlines()[1].startswith("Usage: "), r
    one_line_error(call([HEAPSNAP, "bogus"]), 2, "unknown command")
    one_line_error(call([HEAPSNAP, "--bogus"]), 2, "unknown option")
    ok = {"top": [snap], "diff": [snap, snap], "info": [snap],
          "lookup": [snap, "0x1"], "export": [snap, "--format", "folded"],
          "flamegraph": [snap, "-o", os.path.join(d, "f.svg")]}
    for cmd in commands():
        for bad in (["--bogus"], ["-J"]):
            one_line_error(call([HEAPSNAP, cmd] + bad + ok.get(cmd, [])), 2,
                           "%s %s" % (cmd, bad))
        if cmd == "record":
            continue
        assert call([HEAPSNAP, cmd] + ok[cmd]).returncode == (
            1 if cmd == "lookup" else 0), cmd
        one_line_error(call([HEAPSNAP, cmd]), 2, cmd + " with no file")
        one_line_error(call([HEAPSNAP, cmd] + [missing] + ok[cmd][1:]), 1,
                       cmd + " with a missing file")
    for args in (["top", snap, "--by"], ["top", snap, "--by", "x"],
                 ["diff", snap], ["top", snap, snap], ["lookup", snap, "xyz"],
                 ["flamegraph", snap, snap, snap], ["record"],
                 ["record", "-p"], ["record", "-p", "x"],
                 ["record", "--unwind", "x", "-p", "1"]):
        one_line_error(call([HEAPSNAP] + args), 2, " ".join(args))
    r = call([HEAPSNAP, "lookup", snap, "0x1"])
    assert r.returncode == 1 and r.stderr == "" and \
        r.stdout.startswith("no live block contains 0x1"), r
    # a pid no process has: an error, whether root or not
    one_line_error(call([HEAPSNAP, "record", "-p", "2147483647", "-o",
                         os.path.join(d, "r.hsnap")]), 1, "record bad pid")
