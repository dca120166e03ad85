"""The numbers: rounding bounds and metrics (bounds.py), the verdict
(comparison.py), the residual-structure test (structure.py), black-box recovery of the
pooler (recovery.py), and where two models part (parting.py).

Rule: numpy and scipy only; nothing here imports anything else of the package, so the
arithmetic can be read, and tested, on its own.
"""
