"""PartSDF benchmarks: analytic shapes, metrics, baselines and report writers (not shipped)."""
