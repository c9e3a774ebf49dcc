"""Named moments in a command at which a test can stop or kill it, so that crash and concurrency
tests wait for a state rather than guess a time: with ETL_CHECKPOINT=NAME:ACTION[:N] set, the N-th
time (default: the first) the process reaches NAME it sends itself SIGKILL (ACTION `kill`) or
SIGSTOP (ACTION `stop`). Unset, as always outside the tests, it costs one dictionary look-up."""

from __future__ import annotations

import os
import signal

VARIABLE = "ETL_CHECKPOINT"
CHECKPOINTS = (
    "publish.staged",  # every output written in the staging folder, not yet marked complete
    "publish.complete",  # the staging folder marked complete
    "publish.exchanged",  # datasets/ exchanged with the staged one, datapackage.json not yet replaced
    "publish.replaced",  # datapackage.json replaced, the staging folder not yet removed
    "cache.written",  # a new snapshot's files written, its pointer not yet replaced
)
RAW_CHECKPOINTS = (  # of a change to raw/ (fmt, new, import); crash tests of the writer use these
    "raw.staged",  # every new text in a temporary file, no journal yet: the change has not happened
    "raw.journaled",  # the journal written, no file renamed yet: the change will be finished
    "raw.renamed",  # after each rename (use :N for the N-th)
)
_reached: dict[str, int] = {}


def reached(name: str) -> None:
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    point, _, rest = wanted.partition(":")
    if point != name:
        return
    action, _, count = rest.partition(":")
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGSTOP if action == "stop" else signal.SIGKILL)
