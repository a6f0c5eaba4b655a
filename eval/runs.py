"""Stored evaluation runs: KVISA_HOME/evals/<timestamp>-<name>/, shared by `kvisa eval` and the web app."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kvisa.settings import Settings


@dataclass(frozen=True)
class StoredRun:
    """One finished run: its folder and what its results.json says about it."""

    folder: Path
    gold: tuple[str, ...]  # gold file names (not paths): runs of the same files compare
    split: str
    backend: str
    finished: str
    summary: dict[str, Any]
    baseline: dict[str, Any] | None

    @property
    def name(self) -> str:
        return self.folder.name


def runs_dir(settings: Settings) -> Path:
    return settings.home / "evals"


def new_run_dir(settings: Settings, gold: list[Path]) -> Path:
    """A fresh folder named by the time and the gold files: 20261129-193501-gold_dev."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = "+".join(p.stem for p in gold)[:60] or "all"
    folder = runs_dir(settings) / f"{stamp}-{re.sub(r'[^A-Za-z0-9_.+-]', '_', name)}"
    n = 1
    while folder.exists():  # two runs in one second
        n += 1
        folder = folder.with_name(f"{folder.name.split('~')[0]}~{n}")
    return folder


def read_run(folder: Path) -> StoredRun | None:
    """The run stored in a folder, or None when it holds no readable results.json (a run still going)."""
    try:
        data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        run = data["run"]
        return StoredRun(folder, tuple(Path(g).name for g in run["gold"]), run.get("split", "all"), run["backend"],
                         run.get("finished", ""), data["summary"], (data.get("baseline") or {}).get("summary"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def list_runs(settings: Settings) -> list[StoredRun]:
    """Every stored run, newest first."""
    folder = runs_dir(settings)
    if not folder.is_dir():
        return []
    runs = [r for r in (read_run(f) for f in folder.iterdir() if f.is_dir()) if r]
    return sorted(runs, key=lambda r: (r.finished, r.name), reverse=True)


def previous_run(settings: Settings, run: StoredRun) -> StoredRun | None:
    """The latest earlier run of the same gold files and split, to compare with."""
    return next((r for r in list_runs(settings) if r.gold == run.gold and r.split == run.split
                 and (r.finished, r.name) < (run.finished, run.name)), None)
