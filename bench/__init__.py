"""Benchmarks at archive scale: a synthetic archive built through the commands
(``bench.generate``), and the measurements ``make bench`` runs on it (``bench.run``).

Not tests: ``make test`` never runs them. See docs/performance.md.
"""
