"""Cache files under KVISA_HOME/cache, written atomically: a concurrent reader sees no file or a whole one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_cache(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file beside it; raises OSError (a read-only home, a full
    disk), which callers ignore: a cache only saves time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
