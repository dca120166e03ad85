"""The study on KerasHub presets saved by keras-nlp 0.15.1 and 0.12.1, as Kaggle still serves many:
their config.json names `keras_nlp>BertBackbone`, and keras_hub loads them.

keras-nlp's BertBackbone pools as tanh(dense(sequence_output[:, 0])) (`pooled_dense`);
its DistilBertBackbone has no pooler and returns only the sequence.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from tfhub_pooling import api, cli, provision
from tfhub_pooling.builder import bert_config, build, sources
from tfhub_pooling.formats import KERAS_HUB, TF1_HUB
from tfhub_pooling.numerics.comparison import MATCHES_POOLER
from tfhub_pooling.reports import words

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "Crème brûlée, naïve café: résumé!", ("A pair's first segment.", "Its second.")]


def test_keras_nlp_presets_name_their_classes_keras_nlp(keras_nlp_presets):
    for name in ("minilm", "tiny", "distilbert"):
        config = json.loads((keras_nlp_presets / name / "config.json").read_text())
        assert config["registered_name"].startswith("keras_nlp>"), name


def test_minilm_converted_by_keras_nlp_matches_and_equals_our_build(keras_nlp_presets, tmp_path):
    r = api.verify(str(keras_nlp_presets / "minilm"), texts=TEXTS)
    assert r.verdict == MATCHES_POOLER, words.reason(r.comparison)
    assert r.module.format == KERAS_HUB and r.pooler.kernel_name.endswith("pooled_dense/kernel")
    assert r.comparison.pooled_vs_cls.max_abs > 0.1
    # keras-nlp's BertBackbone computes GELU in its tanh form; so does this build of the same
    # weights. Accented text is left out: keras-nlp's tokenizer keeps accents that
    # tensorflow_text's BertTokenizer strips when it lower-cases.
    weights = sources.from_hf_dir(provision.weights_dir())
    weights = dataclasses.replace(weights, config=dataclasses.replace(weights.config,
                                                                      hidden_act=bert_config.GELU_TANH))
    ours = build.build_module(weights, str(tmp_path / "tanh-gelu"), TF1_HUB)
    ascii_texts = [t for t in TEXTS if str(t).isascii()]
    theirs, mine = (api.verify(h, texts=ascii_texts) for h in (str(keras_nlp_presets / "minilm"), ours))
    assert np.array_equal(theirs.inputs.input_ids, mine.inputs.input_ids)
    assert np.abs(theirs.pooled_output - mine.pooled_output).max() < 1e-4


def test_a_tiny_random_keras_nlp_bert_matches(keras_nlp_presets):
    r = api.verify(str(keras_nlp_presets / "tiny"), texts=TEXTS)
    assert r.verdict == MATCHES_POOLER, words.reason(r.comparison)
    assert np.abs(r.pooler.bias).max() > 0          # the bias was made non-zero, so `+ b` counts


def test_a_keras_nlp_distilbert_has_no_pooled_output(keras_nlp_presets, capsys):
    assert cli.main(["verify", "--handle", str(keras_nlp_presets / "distilbert")]) == 16
    assert "DistilBertBackbone" in capsys.readouterr().err


def test_presets_saved_by_keras_nlp_0_12_get_the_same_verdicts(keras_nlp_012_presets, capsys):
    """keras-nlp 0.12.1 (keras 3.3.3, tensorflow 2.16.2), an older writer of the same format."""
    for name in ("tiny", "distilbert"):
        config = json.loads((keras_nlp_012_presets / name / "config.json").read_text())
        assert config["registered_name"].startswith("keras_nlp>"), name
    r = api.verify(str(keras_nlp_012_presets / "tiny"), texts=TEXTS)
    assert r.verdict == MATCHES_POOLER, words.reason(r.comparison)
    assert r.module.format == KERAS_HUB and np.abs(r.pooler.bias).max() > 0
    assert cli.main(["verify", "--handle", str(keras_nlp_012_presets / "distilbert")]) == 16
    assert "DistilBertBackbone" in capsys.readouterr().err
