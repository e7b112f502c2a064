#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""End-to-end test runner: real BPF, real probes, real programs.

Runs every test_* function of every tests/e2e/test_*.py module and prints one
PASS, FAIL or SKIP line per test. Without root every test says SKIP.
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
    only = argv[1:]
    here = os.path.dirname(os.path.abspath(__file__))
    failed = 0
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
                print("SKIP %s (needs root)" % full, flush=True)
                continue
            start = time.monotonic()
            try:
                fn()
            except hs.Skip as e:
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
            print("PASS %s (%.1fs)" % (full, time.monotonic() - start),
                  flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
