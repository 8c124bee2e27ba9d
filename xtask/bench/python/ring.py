"""The process ring on Axon: MEMBERS components in a circular Pipeline pass a token HOPS times.

Usage: ring.py MEMBERS HOPS. Prints run_s and the hops counted by the members.

Each member forwards the token counted down by one; the member that receives 0 sends
producerFinished on its signal box and ends, and each member passes that on and ends, so
the whole ring ends one lap later.
"""

import time

from Axon.Component import component
from Axon.Ipc import producerFinished
from Kamaelia.Chassis.Pipeline import Pipeline
from common import emit, int_args, run_scheduler


class RingMember(component):
    def __init__(self, tally):
        super(RingMember, self).__init__()
        self.tally = tally

    def main(self):
        sent = 0
        while 1:
            while self.dataReady("inbox"):
                token = self.recv("inbox")
                if token == 0:
                    self.send(producerFinished(self), "signal")
                    self.tally.append(sent)
                    return
                self.send(token - 1, "outbox")
                sent += 1
            if self.dataReady("control"):
                self.send(self.recv("control"), "signal")
                self.tally.append(sent)
                return
            self.pause()
            yield 1


def main():
    members, hops = int_args(["MEMBERS", "HOPS"])
    tally = []
    ring = [RingMember(tally) for _ in range(members)]
    Pipeline(*ring, circular=True).activate()
    ring[0].inboxes["inbox"].append(hops)
    start = time.perf_counter()
    run_scheduler()
    took = time.perf_counter() - start
    emit(run_s=took, hops=sum(tally), members_ended=len(tally))


if __name__ == "__main__":
    main()
