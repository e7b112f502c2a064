# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Python lines that allocate known amounts, for the Python tests.

    python3 gt_python.py [wait] [oracle]

Two phases; each holds what it allocated until the end. With "wait", it
prints "READY <phase>" before phase 1, after phase 1 and after phase 2, and
waits for a line on stdin after each. With "oracle", tracemalloc runs in the
process and each READY is preceded by its statistics("lineno") for this
file, one line each:
    TM <phase> <file> <line> <size> <count>
Another process running the same script without "oracle" allocates the
same blocks on the same lines: the oracle is what heapsnap must see.
"""
import sys
import zlib

WAIT = "wait" in sys.argv[1:]
ORACLE = "oracle" in sys.argv[1:]
if ORACLE:
    import tracemalloc
    tracemalloc.start(1)

held = []


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def strings(n):
    return ["%0120d" % i for i in range(n)]                # LINE strings


def bytearrays(n):
    return [bytearray(4000) for _ in range(n)]             # LINE bytearrays


def dict_entries(n):
    d = {}
    for i in range(n):
        d[i] = "v%d" % i                                   # LINE dict
    return d


def instances(n):
    return [Point(i, -i) for i in range(n)]                # LINE instances


def deep(depth):
    if depth:
        return deep(depth - 1)
    return [bytearray(2000) for _ in range(400)]           # LINE deep


def compressed(n):
    data = bytes(range(256)) * (n // 256)
    return zlib.compress(data, 1), zlib.compressobj(9)    # LINE zlib


def checkpoint(phase):
    if ORACLE:
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(True, __file__)])
        for st in snap.statistics("lineno"):
            fr = st.traceback[0]
            print("TM %d %s %d %d %d" % (phase, fr.filename, fr.lineno,
                                          st.size, st.count))
    print("READY %d" % phase, flush=True)
    if WAIT:
        sys.stdin.readline()


checkpoint(0)
held.append(strings(20000))
held.append(bytearrays(400))
held.append(deep(50))
checkpoint(1)
held.append(dict_entries(100000))
held.append(instances(30000))
held.append(compressed(1 << 20))
checkpoint(2)
