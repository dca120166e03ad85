"""docs/pooled_output.ipynb runs top to bottom offline, on the embedded default, and keeps
the outputs it shows (scripts/notebook.py writes and runs it)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[1] / "docs" / "pooled_output.ipynb"


def _text(nb) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_the_notebook_runs_offline_and_answers_the_question(default_module_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3").execute()     # raises on a cell's error
    text = _text(nb)
    assert "MATCHES_POOLER" in text and "bert/pooler/dense/kernel" in text
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "absl" not in text and "pkg_resources" not in text      # start-up noise kept out


def test_the_committed_notebook_keeps_its_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("outputs") for c in code[1:]), "run scripts/notebook.py to refresh the outputs"
    assert "max |pooled - tanh(cls·W + b)|" in _text(nb)
