"""Shared by the Axon workload scripts: drive the scheduler by hand, read VmRSS, print JSON.

Each script runs one measurement in a fresh interpreter (so a fresh Axon scheduler and a
clean heap) and prints one JSON object on stdout; `cargo xtask bench` checks and collects it.
"""

import json
import sys

from Axon.Scheduler import scheduler


def run_scheduler():
    """Runs the default scheduler to completion, driving main(canblock=False) directly.

    The default runThreads() calls main(canblock=True), which sleeps when every component
    is paused; driving the generator directly is the fast, CPU-bound mode (reference §5).
    """
    for _ in scheduler.run.main(canblock=False):
        pass


def vm_rss_bytes():
    """Resident set size of this process, from /proc/self/status."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def emit(**fields):
    """Prints the result as one JSON object."""
    print(json.dumps(fields))
    sys.stdout.flush()


def int_args(names):
    """The positional command-line arguments, as integers, in the order named."""
    if len(sys.argv) != len(names) + 1:
        sys.exit("usage: %s %s" % (sys.argv[0], " ".join(names)))
    return [int(a) for a in sys.argv[1:]]
