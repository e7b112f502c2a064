#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""End-to-end test runner: real BPF, real probes, real programs.

Runs every test_* function of every tests/e2e/test_*.py module and prints one
PASS, FAIL or SKIP line per test, then "e2e: N passed, N failed, N skipped".

    run.py [--allow-skip] [NAME_FRAGMENT...]

A skipped test fails the run unless --allow-skip is given: the suite must not
pass without having run. Without root it stops at once with that message;
with --allow-skip every test that needs root says SKIP.
HEAPSNAP_BUILD names the build directory (build/ by default).
"""
import glob
import importlib.util
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hs  # noqa: E402


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv):
    allow_skip = "--allow-skip" in argv[1:]
    only = [a for a in argv[1:] if a != "--allow-skip"]
    if os.geteuid() != 0 and not allow_skip:
        print("FAIL e2e: not run: the end-to-end tests load BPF programs "
              "and need root (run them as root, or pass --allow-skip, "
              "make ALLOW_SKIP=1, to skip them)", flush=True)
        return 1
    here = os.path.dirname(os.path.abspath(__file__))
    passed = failed = skipped = 0
    for path in sorted(glob.glob(os.path.join(here, "test_*.py"))):
        mod = load(path)
        tests = [(n, f) for n, f in vars(mod).items()
                 if n.startswith("test_") and callable(f)]
        tests.sort(key=lambda t: t[1].__code__.co_firstlineno)
        for name, fn in tests:
            full = "%s.%s" % (mod.__name__, name)
            if only and not any(o in full for o in only):
                continue
            if os.geteuid() != 0 and not getattr(fn, "no_root", False):
                skipped += 1
                print("SKIP %s (needs root)" % full, flush=True)
                continue
            start = time.monotonic()
            try:
                fn()
            except hs.Skip as e:
                skipped += 1
                print("SKIP %s (%s)" % (full, e), flush=True)
                continue
            except Exception:
                failed += 1
                print("FAIL %s" % full, flush=True)
                for line in traceback.format_exc().splitlines():
                    print("  " + line, flush=True)
                continue
            finally:
                hs.cleanup()
            passed += 1
            print("PASS %s (%.1fs)" % (full, time.monotonic() - start),
                  flush=True)
    if skipped and not allow_skip:
        failed += 1
        print("FAIL e2e: %d skipped: a skip fails the run unless "
              "--allow-skip (make ALLOW_SKIP=1) is given" % skipped,
              flush=True)
    print("e2e: %d passed, %d failed, %d skipped" % (passed, failed, skipped),
          flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
