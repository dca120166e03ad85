"""What people and machines read: the terminal table, Markdown, JSON (with the
schemas in schemas/), npz, the plot (render.py, plot.py), and `inspect`
(inspection.py), and a comparison of two models (parting.py).

Rule: every document uses one vocabulary (render.module_json, render.pooler_json)
and carries render.SCHEMA_VERSION; reports never build a module.
"""
