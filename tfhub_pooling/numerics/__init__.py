"""The numbers: rounding bounds and metrics (bounds.py), the verdict
(comparison.py), black-box recovery of the pooler (recovery.py).

Rule: numpy only; nothing here imports anything else of the package, so the
arithmetic can be read, and tested, on its own.
"""
