"""Start-up of ``vectobeat-ops --help`` against a bare Typer app with two commands, same run.

Each is run as a fresh process, alternating, ``--runs`` times; the figure is the median wall time.
Goal: ``vectobeat-ops --help`` at most 1.5x the bare app.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_APP = '''
import typer

app = typer.Typer()


@app.command()
def first() -> None:
    """The first command."""


@app.command()
def second() -> None:
    """The second command."""


app()
'''

GOAL_RATIO = 1.5


def wall(argv: list[str]) -> float:
    """Seconds one process takes from start to exit."""
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    script = Path(sys.executable).with_name("vectobeat-ops")  # the installed console script
    ops = [str(script) if script.exists() else sys.executable, "--help"]
    if not script.exists():
        ops[1:1] = ["-m", "vectobeat_ops"]
    with tempfile.TemporaryDirectory() as tmp:
        bare_file = Path(tmp) / "bare_typer.py"
        bare_file.write_text(BARE_APP, encoding="utf-8")
        bare = [sys.executable, str(bare_file), "--help"]
        wall(ops), wall(bare)  # warm the file cache and the bytecode of both
        ops_s, bare_s = [], []
        for _ in range(args.runs):
            ops_s.append(wall(ops))
            bare_s.append(wall(bare))
    ops_median, bare_median = statistics.median(ops_s), statistics.median(bare_s)
    ratio = ops_median / bare_median
    out = sys.stdout
    out.write(f"--help start-up, median of {args.runs} fresh processes (alternating)\n")
    out.write(f"{'program':<26}{'median s':>10}{'min s':>10}{'max s':>10}\n")
    for name, runs in (("vectobeat-ops --help", ops_s), ("bare Typer, 2 commands", bare_s)):
        out.write(
            f"{name:<26}{statistics.median(runs):>10.3f}{min(runs):>10.3f}{max(runs):>10.3f}\n"
        )
    verdict = "meets" if ratio <= GOAL_RATIO else "misses"
    out.write(f"ratio {ratio:.2f}x ({verdict} the goal of {GOAL_RATIO}x)\n")
    figures = {
        "runs": args.runs,
        "ops_help_median_s": round(ops_median, 4),
        "bare_typer_median_s": round(bare_median, 4),
        "ratio": round(ratio, 3),
        "goal_ratio": GOAL_RATIO,
    }
    out.write(json.dumps(figures, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
