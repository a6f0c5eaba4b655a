"""Test helper: close this process's cached Chroma client for one KVISA_HOME, and only that one."""

from __future__ import annotations

from pathlib import Path

from kvisa.settings import Settings


def forget_client(home: Path) -> None:
    """Drop the cached client of `home`, so the next read sees what a subprocess wrote there.

    chromadb keeps one shared system per directory for the whole process. Clearing all of them
    (SharedSystemClient.clear_system_cache) would also stop clients other tests still hold.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    system = SharedSystemClient._identifier_to_system.pop(str(Settings(home=home).chroma_dir), None)
    if system is not None:
        system.stop()
