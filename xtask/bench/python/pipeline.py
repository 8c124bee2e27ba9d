"""Pipeline throughput on Axon: Source -> STAGES PureTransformers -> Sink, MESSAGES integers.

Usage: pipeline.py STAGES MESSAGES. Prints run_s, how many messages reached the sink and
whether they arrived in order.

The source sends one message per scheduler turn, as Kamaelia's DataSource does (DataSource
itself pops from the front of a list, which is quadratic; this one counts instead).
"""

import time

from Axon.Component import component
from Axon.Ipc import producerFinished, shutdownMicroprocess
from Kamaelia.Chassis.Pipeline import Pipeline
from Kamaelia.Util.PureTransformer import PureTransformer
from common import emit, int_args, run_scheduler


class Source(component):
    def __init__(self, count):
        super(Source, self).__init__()
        self.count = count

    def main(self):
        for i in range(self.count):
            yield 1
            self.send(i, "outbox")
        yield 1
        self.send(producerFinished(self), "signal")


class OrderCheckingSink(component):
    def __init__(self, result):
        super(OrderCheckingSink, self).__init__()
        self.result = result

    def main(self):
        expected = 0
        in_order = True
        while 1:
            while self.dataReady("inbox"):
                if self.recv("inbox") != expected:
                    in_order = False
                expected += 1
            while self.dataReady("control"):
                msg = self.recv("control")
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    while self.dataReady("inbox"):
                        if self.recv("inbox") != expected:
                            in_order = False
                        expected += 1
                    self.result.update(received=expected, in_order=in_order)
                    return
            self.pause()
            yield 1


def main():
    stages, messages = int_args(["STAGES", "MESSAGES"])
    result = {}
    parts = [Source(messages)]
    parts += [PureTransformer(lambda x: x) for _ in range(stages)]
    parts.append(OrderCheckingSink(result))
    Pipeline(*parts).activate()
    start = time.perf_counter()
    run_scheduler()
    took = time.perf_counter() - start
    emit(run_s=took, received=result.get("received", 0), in_order=result.get("in_order", False))


if __name__ == "__main__":
    main()
