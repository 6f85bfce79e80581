"""Appending a benchmark's report to its log under bench/results/, headed by the date, the
machine and the load average around the run (numbers from a busy host read differently)."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def append_report(name: str, report: str, load_before: float) -> None:
    """Print `report` under its header and append both to bench/results/`name`."""
    header = (f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}, "
              f"load average before {load_before:.1f} / after {os.getloadavg()[0]:.1f}\n")
    print(header + report)
    with open(RESULTS / name, "a") as fh:
        fh.write(header + report + "\n")
