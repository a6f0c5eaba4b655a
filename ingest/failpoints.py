"""Failpoints: crash tests stop a real ingest at an exact step, so where it dies is never left to timing."""

from __future__ import annotations

import os
import signal

# KVISA_FAILPOINT="units:3" SIGKILLs this process the third time it reaches the failpoint "units".
# Unset (always, outside the crash tests) a failpoint costs one dictionary lookup and does nothing.
ENV = "KVISA_FAILPOINT"
_reached: dict[str, int] = {}


def failpoint(name: str) -> None:
    wanted = os.environ.get(ENV, "")
    if not wanted.startswith(f"{name}:"):
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == int(wanted.rsplit(":", 1)[1]):
        os.kill(os.getpid(), signal.SIGKILL)
