"""Whether a process on this host still runs: what decides that a claim, or a half-written save, was abandoned."""

from __future__ import annotations

import os
from pathlib import Path


def process_alive(pid: int) -> bool:
    """False for a process that is gone or a zombie (killed, not yet reaped by its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
