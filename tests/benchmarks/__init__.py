"""Benchmarks: `make bench` (__main__.py); scenarios.py and documents.py run on their own."""

from __future__ import annotations

import statistics
import time


def timed(fn, repeat: int = 20) -> tuple[float, float]:
    """Median and 95th percentile, in milliseconds, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]
