"""What the benchmark scripts (and the tests that start servers) share: a free loopback port and stopping a
server; and the benchmarks' writing of their figures to eval/results/."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def save(result: dict[str, Any], out: Path) -> None:
    """Write the figures as JSON (the committed record of a run) and show them."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))


def stop(process: subprocess.Popen, grace: float = 15) -> None:
    """End a server a benchmark or a test started: politely, then by force after `grace` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
