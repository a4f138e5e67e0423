"""Latency samples summarised as a load test reports them: rate and percentiles."""

from __future__ import annotations

from dataclasses import dataclass


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest sample that at least ``fraction`` of the
    samples do not exceed (no interpolation, so it is always a latency that was measured)."""
    if not sorted_values:
        raise ValueError("no samples")
    rank = max(1, -(-len(sorted_values) * fraction // 1))  # ceil without importing math
    return sorted_values[int(rank) - 1]


@dataclass(frozen=True)
class Latencies:
    """``count`` answers in ``seconds`` of wall time; latencies in milliseconds."""

    count: int
    seconds: float
    p50: float
    p95: float
    p99: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    @classmethod
    def of(cls, milliseconds: list[float], seconds: float) -> Latencies:
        ordered = sorted(milliseconds)
        return cls(
            count=len(ordered),
            seconds=seconds,
            p50=percentile(ordered, 0.50),
            p95=percentile(ordered, 0.95),
            p99=percentile(ordered, 0.99),
        )
