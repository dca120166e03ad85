"""Tools beside the study: the benchmark (bench.py) and the sensitivity sweep
(sensitivity.py).

Rule: tools call the study's public functions and the builder, never the reverse.
"""
