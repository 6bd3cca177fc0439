"""Seconds for the March (1991) Figure 1 grid: 9 points x 1,000 replications (default rules)."""

from __future__ import annotations

import time

from orgsim.replications.march1991 import figure1


def main() -> None:
    start = time.perf_counter()
    table = figure1(reps=1000, seed=0)
    seconds = time.perf_counter() - start
    print(table.pivot(index="p2", columns="p1", values="knowledge_mean").round(3).to_string())
    print(f"figure 1 grid, 9 points x 1000 replications: {seconds:.1f} s")


if __name__ == "__main__":
    main()
