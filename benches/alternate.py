#!/usr/bin/env python3
"""Wall time of two commands, run alternately (A, B, A, B, ...) so both see
the same drift in a shared machine's speed; prints the two medians in ms.

    benches/alternate.py RUNS 'A command' 'B command'

Commands are split on spaces and started with posix_spawn (no shell), stdout
to /dev/null; the first 20 pairs are a warm-up and are not counted.
"""
import os
import shutil
import statistics
import sys
import time


def main():
    runs = int(sys.argv[1])
    commands = [c.split() for c in sys.argv[2:4]]
    for c in commands:
        c[0] = shutil.which(c[0]) or c[0]
    devnull = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 1)]

    def once(cmd):
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=actions)
        _, status = os.waitpid(pid, 0)
        took = time.perf_counter_ns() - t0
        if status != 0:
            sys.exit(f"{' '.join(cmd)} failed (wait status {status})")
        return took

    times = ([], [])
    for i in range(runs + 20):
        for k, cmd in enumerate(commands):
            t = once(cmd)
            if i >= 20:
                times[k].append(t)
    print(" ".join(f"{statistics.median(t) / 1e6:.3f}" for t in times))


main()
