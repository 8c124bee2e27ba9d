"""Checks that the original Kamaelia AxonVisualiser accepts a topology stream.

Usage: check_topology.py TEXT EXPECTED

TEXT is what an Introspector sent (the visualiser protocol, reference section 1.15).
It is fed, in small chunks cut at arbitrary places, through the original
Kamaelia.Visualisation.PhysicsGraph chunks_to_lines and lines_to_tokenlists
components, run by the original Axon scheduler. Every token list must have the
shape of a command the viewer knows, and nothing may be lost on the way (one
token list per non-blank line). The token lists are then given, in order, to the
original TopologyViewer's command handling (doCommand), configured as the
AxonVisualiser configures it (PComponent and PPostbox particles, AxonLaws),
headless (SDL's dummy video driver, an off-screen surface): it must report no
error, end up with exactly the nodes and links of EXPECTED (lines "N<TAB>id" and
"L<TAB>from<TAB>to"), and be able to run its physics and draw everything.

Prints one last line "RESULT <json>" and exits 0 when everything holds, else
prints what went wrong and exits 1.
"""

import contextlib
import io
import json
import os
import sys

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from Axon.Component import component  # noqa: E402
from Axon.Ipc import producerFinished, shutdownMicroprocess  # noqa: E402
from Kamaelia.Chassis.Pipeline import Pipeline  # noqa: E402
from Kamaelia.Visualisation.PhysicsGraph.chunks_to_lines import chunks_to_lines  # noqa: E402
from Kamaelia.Visualisation.PhysicsGraph.lines_to_tokenlists import lines_to_tokenlists  # noqa: E402

CHUNK = 7
TYPES = ("component", "inbox", "outbox")


class ChunkSource(component):
    """Sends the chunks, one per time slice, then lets the pipeline drain before finishing."""

    def __init__(self, chunks):
        super(ChunkSource, self).__init__()
        self.chunks = chunks

    def main(self):
        for chunk in self.chunks:
            self.send(chunk, "outbox")
            yield 1
        # chunks_to_lines and lines_to_tokenlists stop as soon as they see producerFinished,
        # without finishing their queues: give them time to empty them first.
        for _ in range(200):
            yield 1
        self.send(producerFinished(self), "signal")


class Collect(component):
    """Keeps every token list until told to stop."""

    def __init__(self, store):
        super(Collect, self).__init__()
        self.store = store

    def main(self):
        while True:
            while self.dataReady("inbox"):
                self.store.append(self.recv("inbox"))
            while self.dataReady("control"):
                msg = self.recv("control")
                if isinstance(msg, (producerFinished, shutdownMicroprocess)):
                    while self.dataReady("inbox"):
                        self.store.append(self.recv("inbox"))
                    return
            self.pause()
            yield 1


def shape_error(tokens):
    """Why a token list is not a command the AxonVisualiser draws, or None."""
    if len(tokens) < 2:
        return "too short"
    cmd = (tokens[0], tokens[1])
    if cmd == ("ADD", "NODE"):
        if len(tokens) != 6:
            return "ADD NODE needs 6 tokens"
        if tokens[4] != "randompos":
            return "position is not randompos"
        if tokens[5] not in TYPES:
            return "unknown particle type %r" % tokens[5]
        return None
    if cmd == ("DEL", "NODE"):
        return None if len(tokens) == 3 else "DEL NODE needs 3 tokens"
    if cmd in (("ADD", "LINK"), ("DEL", "LINK")):
        return None if len(tokens) == 4 else "LINK commands need 4 tokens"
    if cmd == ("DEL", "ALL"):
        return None if len(tokens) == 2 else "DEL ALL needs 2 tokens"
    return "unknown command"


def main(text_path, expected_path):
    data = open(text_path, "rb").read()
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    lines = [l for l in data.decode("utf8").split("\n") if l.strip()]

    tokenlists = []
    Pipeline(ChunkSource(chunks), chunks_to_lines(), lines_to_tokenlists(), Collect(tokenlists)).run()

    problems = []
    if len(tokenlists) != len(lines):
        problems.append("%d non-blank lines became %d token lists" % (len(lines), len(tokenlists)))
    for tokens in tokenlists:
        why = shape_error(tokens)
        if why:
            problems.append("bad command %r: %s" % (tokens, why))

    import pygame
    from Kamaelia.Visualisation.Axon.AxonLaws import AxonLaws
    from Kamaelia.Visualisation.Axon.PComponent import PComponent
    from Kamaelia.Visualisation.Axon.PPostbox import PPostbox
    from Kamaelia.Visualisation.PhysicsGraph.TopologyViewer import TopologyViewer

    pygame.init()
    particles = {"component": PComponent, "inbox": PPostbox.Inbox, "outbox": PPostbox.Outbox}
    viewer = TopologyViewer(particleTypes=particles, laws=AxonLaws(), simCyclesPerRedraw=3)
    sent = []
    viewer.send = lambda msg, box="outbox": sent.append((box, msg))
    viewer.screen = pygame.Surface(viewer.screensize)
    # PComponent prints as it picks colours: keep our output to the result.
    with contextlib.redirect_stdout(io.StringIO()):
        viewer.initialiseComponent()
        for tokens in tokenlists:
            viewer.doCommand(tokens)
        viewer.physics.run(30)
        viewer.render()
    errors = [m for box, m in sent if box == "outbox" and isinstance(m, tuple) and m and m[0] == "ERROR"]
    problems.extend("viewer: " + e[1] for e in errors)

    nodes = set(viewer.physics.particleDict.keys())
    links = set()
    for p in viewer.physics.particles:
        for q in p.getBondedTo():
            links.add((p.ID, q.ID))
    want_nodes, want_links = set(), set()
    for line in open(expected_path, encoding="utf8").read().split("\n"):
        if not line:
            continue
        parts = line.split("\t")
        if parts[0] == "N":
            want_nodes.add(parts[1])
        else:
            want_links.add((parts[1], parts[2]))
    if nodes != want_nodes:
        problems.append("nodes differ: viewer only %r, expected only %r"
                        % (sorted(nodes - want_nodes)[:5], sorted(want_nodes - nodes)[:5]))
    if links != want_links:
        problems.append("links differ: viewer only %r, expected only %r"
                        % (sorted(links - want_links)[:5], sorted(want_links - links)[:5]))

    for p in problems:
        print("PROBLEM " + p)
    print("RESULT " + json.dumps({"commands": len(tokenlists), "nodes": len(nodes), "links": len(links),
                                  "problems": len(problems)}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
