"""Failpoints: crash tests stop a real ingest at an exact step, so where it dies is never left to timing."""

from __future__ import annotations

import os
import signal

# KVISA_FAILPOINT="units:3" SIGKILLs this process the third time it reaches the failpoint "units";
# "units:3:stop" SIGSTOPs it there instead, so a test can run another process while this one is held at
# that exact step, then let it go on (SIGCONT). Unset (always, outside the tests) a failpoint costs one
# dictionary lookup and does nothing.
ENV = "KVISA_FAILPOINT"
_reached: dict[str, int] = {}


def failpoint(name: str) -> None:
    wanted = os.environ.get(ENV, "")
    if not wanted.startswith(f"{name}:"):
        return
    _reached[name] = _reached.get(name, 0) + 1
    _, nth, *action = wanted.split(":")
    if _reached[name] == int(nth):
        os.kill(os.getpid(), signal.SIGSTOP if action == ["stop"] else signal.SIGKILL)
