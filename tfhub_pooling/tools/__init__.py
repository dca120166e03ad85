"""Tools beside the study: the benchmark (bench.py), the sensitivity sweep
(sensitivity.py) and the study's table over every kind of module (study_table.py).

Rule: tools call the study's public functions and the builder, never the reverse.
"""
