"""What people and machines read: the terminal table, Markdown, JSON (with the
schemas in schemas/), npz, the plot (render.py, plot.py), and `inspect`
(inspection.py), and a comparison of two models (parting.py); the verdict's reason, made
from its findings (words.py), the same in all of them.

Rule: the numbers decide, the reports say: every sentence about a result is made here,
from its data. Every document uses one vocabulary (render.module_json, render.pooler_json)
and carries render.SCHEMA_VERSION; reports never build a module.
"""
