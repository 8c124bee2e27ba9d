"""Hackysack on Axon, as the Kamaelia variant (reference §6): N players, one sack, TURNS kicks.

Usage: hackysack.py PLAYERS TURNS. Prints build_s (create and activate every player), run_s
(scheduler to completion), kicks and how many players ended.

A py3 restatement of the Kamaelia hackysack (Joe Heck's port): each player is a component
that delivers by appending straight into the target's inbox (no linkages), re-drawing until
the target is not itself; the player that finds the turn limit reached appends 'exit' to
every inbox and returns. Two changes, so every system plays the same game: exactly PLAYERS
players (the original makes one extra), and the limit test is `count >= turns` (the
original's `>` makes turns + 1 kicks).
"""

import random
import time

import Axon
from common import emit, int_args, run_scheduler


class Counter(object):
    def __init__(self):
        self.count = 0


class HackyMsg(object):
    def __init__(self, name):
        self.name = name


class HackySacker(Axon.Component.component):
    def __init__(self, name, circle, counter, turns):
        super(HackySacker, self).__init__()
        self.name = name
        self.circle = circle
        self.counter = counter
        self.turns = turns
        circle.append(self)

    def main(self):
        yield 1
        while 1:
            while not self.anyReady():
                self.pause()
                yield 1
            while self.dataReady("inbox"):
                msg = self.recv("inbox")
                if msg == "exit":
                    return
                if self.counter.count >= self.turns:
                    for z in self.circle:
                        z.inboxes["inbox"].append("exit")
                    return
                kickto = self.circle[random.randint(0, len(self.circle) - 1)]
                while kickto is self:
                    kickto = self.circle[random.randint(0, len(self.circle) - 1)]
                kickto.inboxes["inbox"].append(HackyMsg(self.name))
                self.counter.count += 1
            yield 1


def main():
    players, turns = int_args(["PLAYERS", "TURNS"])
    counter = Counter()
    circle = []
    start = time.perf_counter()
    for i in range(players):
        HackySacker(str(i), circle, counter, turns).activate()
    built = time.perf_counter()
    circle[0].inboxes["inbox"].append(HackyMsg("me"))
    run_scheduler()
    done = time.perf_counter()
    exited = sum(1 for p in circle if p._isStopped())
    emit(build_s=built - start, run_s=done - built, kicks=counter.count, players=players, exited=exited)


if __name__ == "__main__":
    main()
