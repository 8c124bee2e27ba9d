"""Spawn and memory on Axon: create and activate N idle components with the standard boxes.

Usage: spawn.py N. Prints total_s (create, activate, and run each once, to its first pause),
rss_delta_bytes (VmRSS after minus before) and how many started.
"""

import time

from Axon.Component import component
from Axon.Scheduler import scheduler
from common import emit, int_args, vm_rss_bytes

started = [0]


class Idle(component):
    """Waits for anything on inbox or control (it never comes)."""

    def main(self):
        started[0] += 1
        while not self.anyReady():
            self.pause()
            yield 1


def main():
    (n,) = int_args(["N"])
    before = vm_rss_bytes()
    start = time.perf_counter()
    for _ in range(n):
        Idle().activate()
    steps = scheduler.run.main(canblock=False)
    while started[0] < n:
        next(steps)
    took = time.perf_counter() - start
    after = vm_rss_bytes()
    emit(total_s=took, rss_delta_bytes=after - before, started=started[0])


if __name__ == "__main__":
    main()
