"""Benchmark the Evaluation tab against the CLI: the same dev-set run, timed both ways in one process run.

Usage: .venv/bin/python eval/bench_eval_tab.py [--home DIR] [--rounds 3] [--out eval/results/eval_tab.json]
The CLI run is `kvisa eval --gold eval/gold_dev.jsonl` in a subprocess (its start-up included, as a user
waits for it); the tab run is the /run_eval call of a running `kvisa chat`, through gradio_client.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("KVISA_HOME", ROOT / ".kvisa")))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "eval_tab.json")
    args = parser.parse_args()
    from gradio_client import Client

    from eval.benchmarks import free_port, save
    from kvisa.settings import Settings
    from ui.app import launch

    env = {**os.environ, "KVISA_HOME": str(args.home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    demo, url = launch(Settings(home=args.home), "127.0.0.1", free_port(), block=False, quiet=True)
    client = Client(url, verbose=False)
    cli, tab = [], []
    try:
        for _ in range(args.rounds):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "kvisa.cli", "eval", "--gold", "eval/gold_dev.jsonl"], env=env,
                           cwd=ROOT, check=True, capture_output=True)
            cli.append(time.perf_counter() - started)
            started = time.perf_counter()
            client.predict("gold_dev.jsonl", None, "extractive", 6, "all", False, api_name="/run_eval")
            tab.append(time.perf_counter() - started)
    finally:
        demo.close()
    result = {"cli_s": [round(t, 2) for t in cli], "tab_s": [round(t, 2) for t in tab],
              "cli_median_s": round(statistics.median(cli), 2), "tab_median_s": round(statistics.median(tab), 2),
              "tab_over_cli": round(statistics.median(tab) / statistics.median(cli), 2),
              "load_average": os.getloadavg()[0], "questions": 48,
              "command": f"python eval/bench_eval_tab.py --rounds {args.rounds}"}
    save(result, args.out)


if __name__ == "__main__":
    main()
