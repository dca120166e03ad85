"""Development tools beside the package, not installed with it: the benchmark
(bench.py, run as scripts/bench.py), the sensitivity sweep (sensitivity.py), the
study's table over every kind of module (study_table.py), and the pipelines the
benchmark races (race/).

Rule: these call the package's public functions and its builder; the package
never imports them (tests/test_layout.py).
"""
