"""Hugging Face checkpoints written by transformers 5 itself (PyTorch layout, safetensors),
and what transformers computes on them.

Each checkpoint with a pooler must match it; the tool's pooled_output and
sequence_output must equal transformers' own pooler_output and last_hidden_state on the
ids the tool used, to 1e-4 (run through keras_hub's converter, with config.json's GELU).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_exporter
from tfhub_pooling import api, cli
from tfhub_pooling.errors import EXIT_NO_POOLED_OUTPUT
from tfhub_pooling.formats import HF_CHECKPOINT
from tfhub_pooling.numerics.comparison import MATCHES_POOLER, NO_POOLER_WEIGHTS
from tfhub_pooling.reports import words

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "Zürich's café served crème brûlée.", ("A pair's first segment.", "Its second.")]
WITH_POOLER = ["bert_model", "bert_for_pretraining", "bert_for_sequence_classification", "bert_sharded",
               "albert_model", "albert_for_pretraining"]


@pytest.mark.parametrize("name", WITH_POOLER)
def test_a_checkpoint_with_a_pooler_matches_and_equals_transformers_own_outputs(
        name, transformers_checkpoints, tmp_path):
    path = transformers_checkpoints / name
    r = api.verify(str(path), texts=TEXTS)
    assert r.verdict == MATCHES_POOLER, words.reason(r.comparison)
    assert r.module.format == HF_CHECKPOINT and r.pooler.checkpoint.status == "read-from-file"
    arrays = tmp_path / "ours.npz"
    np.savez(arrays, input_ids=r.inputs.input_ids, input_mask=r.inputs.input_mask, segment_ids=r.inputs.segment_ids)
    run_exporter("transformers", "export_transformers.py", "run", str(path), str(arrays), str(tmp_path / "theirs.npz"))
    theirs = np.load(tmp_path / "theirs.npz")
    real = r.inputs.input_mask.astype(bool)
    assert np.abs(theirs["last_hidden_state"] - r.sequence_output)[real].max() <= 1e-4
    assert np.abs(theirs["pooler_output"] - r.pooled_output).max() <= 1e-4


@pytest.mark.parametrize("name", ["bert_for_masked_lm", "bert_no_pooling_layer"])
def test_a_checkpoint_that_stores_no_pooler_says_transformers_draws_it_at_random(name, transformers_checkpoints):
    r = api.verify(str(transformers_checkpoints / name), texts=TEXTS, structure_test=False)
    assert r.verdict == NO_POOLER_WEIGHTS and "newly initialized" in r.pooler_search


@pytest.mark.parametrize("name, backbone", [("distilbert_model", "DistilBertBackbone"),
                                            ("roberta_model", "RobertaBackbone")])
def test_families_keras_hub_runs_without_a_pooler_return_no_pooled_output(name, backbone, transformers_checkpoints,
                                                                          capsys):
    assert cli.main(["verify", "--handle", str(transformers_checkpoints / name)]) == EXIT_NO_POOLED_OUTPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and backbone in err[0], err
