"""The modules the builder writes compute BERT: checked against a numpy forward pass."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from reference_bert import forward
from safetensors.numpy import load_file

from tfhub_pooling import api
from tfhub_pooling.builder import bert_config, build, sources
from tfhub_pooling.formats import CHECKPOINT
from tfhub_pooling.study.encoder_inputs import Tokenizer

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "Hello!", ("A first segment.", "And a second, rather longer, segment of text.")]


@pytest.mark.parametrize("which", ["default", "small"])
def test_module_equals_numpy_bert(which, default_module_path, small_module_path, minilm_dir, small_hf_dir):
    path, hf_dir = ((default_module_path, minilm_dir) if which == "default"
                    else (small_module_path, small_hf_dir))
    module = api.load(path)
    inputs = Tokenizer(module.facts.vocab_file, module.facts.do_lower_case).encode(TEXTS, 128)
    out = module.run(inputs.input_ids, inputs.input_mask, inputs.segment_ids)
    config = json.loads((hf_dir / "config.json").read_text())
    seq_ref, pooled_ref = forward(load_file(str(hf_dir / "model.safetensors")), config,
                                  inputs.input_ids, inputs.input_mask, inputs.segment_ids)
    real = inputs.input_mask.astype(bool)     # padded positions are not compared
    assert np.abs(out["sequence_output"][real] - seq_ref[real]).max() <= 1e-4
    assert np.abs(out["pooled_output"] - pooled_ref).max() <= 1e-4


def test_module_layout(default_module_path):
    files = set(os.listdir(default_module_path))
    assert {"saved_model.pb", "tfhub_module.pb", "variables", "assets"} <= files
    with open(os.path.join(default_module_path, "tfhub_module.pb"), "rb") as f:
        assert f.read() == b"\x08\x03"
    assert os.path.isfile(os.path.join(default_module_path, "assets", "vocab.txt"))


def test_variables_carry_google_research_names(default_loaded):
    names = {v.name.removesuffix(":0") for v in default_loaded.variables}
    config = bert_config.BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                                    intermediate_size=1536)
    assert names == set(bert_config.param_shapes(config))


def test_hf_name_mapping():
    assert (sources.hf_to_google_name("encoder.layer.3.attention.self.query.weight")
            == "bert/encoder/layer_3/attention/self/query/kernel")
    assert sources.hf_to_google_name("embeddings.LayerNorm.bias") == "bert/embeddings/LayerNorm/beta"
    assert (sources.hf_to_google_name("bert.embeddings.word_embeddings.weight")
            == "bert/embeddings/word_embeddings")
    assert sources.hf_to_google_name("pooler.dense.weight") == "bert/pooler/dense/kernel"
    assert sources.hf_to_google_name("embeddings.position_ids") is None
    assert sources.hf_to_google_name("cls.predictions.bias") is None


def test_build_refuses_an_existing_destination(tmp_path, small_hf_dir):
    from tfhub_pooling.errors import UsageError
    (tmp_path / "taken").mkdir()
    with pytest.raises(UsageError, match="already exists"):
        build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "taken"))


def test_a_failed_build_leaves_nothing(tmp_path, small_hf_dir, monkeypatch):
    def broken_writer(w, export_dir, control):
        os.makedirs(export_dir)
        open(os.path.join(export_dir, "saved_model.pb"), "wb").write(b"half")
        raise RuntimeError("interrupted")
    monkeypatch.setitem(build.WRITERS, "tf1-hub", broken_writer)
    with pytest.raises(RuntimeError):
        build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "m"))
    assert os.listdir(tmp_path) == []


def test_incomplete_hf_dir_is_refused(tmp_path):
    from tfhub_pooling.errors import UsageError
    with pytest.raises(UsageError, match="config.json"):
        sources.from_hf_dir(tmp_path)


def test_google_research_gelu_is_the_tanh_form(tmp_path, minilm_dir):
    """bert_config.json's "gelu" is modeling.py's tanh form; config.json's "gelu" is exact (erf)."""
    ckpt = build.build_module(sources.from_hf_dir(minilm_dir), str(tmp_path / "ckpt"), CHECKPOINT)
    config_file = tmp_path / "ckpt" / "bert_config.json"
    written = json.loads(config_file.read_text())
    assert written["hidden_act"] == "gelu_exact"       # MiniLM's own form, kept by our writer
    config_file.write_text(json.dumps(written | {"hidden_act": "gelu"}))   # as google-research names it
    module = api.load(ckpt)
    inputs = Tokenizer(module.facts.vocab_file, module.facts.do_lower_case).encode(TEXTS, 128)
    out = module.run(inputs.input_ids, inputs.input_mask, inputs.segment_ids)
    hf_config = json.loads((minilm_dir / "config.json").read_text())
    weights = load_file(str(minilm_dir / "model.safetensors"))
    real = inputs.input_mask.astype(bool)
    errors = {}
    for act in ("gelu_new", "gelu"):       # HF's names for the tanh and the exact form
        seq_ref, _ = forward(weights, hf_config | {"hidden_act": act},
                             inputs.input_ids, inputs.input_mask, inputs.segment_ids)
        errors[act] = np.abs(out["sequence_output"][real] - seq_ref[real]).max()
    assert errors["gelu_new"] <= 1e-4 < 1e-3 <= errors["gelu"]


def test_train_variant_applies_dropout_and_inference_does_not(small_module_path):
    """As google-research's run_classifier_with_tfhub.py relies on: tags {"train"} for training."""
    ids = tf.constant([[101, 7592, 2088, 102]], tf.int32)
    feed = {"input_ids": ids, "input_mask": tf.ones_like(ids), "segment_ids": tf.zeros_like(ids)}
    for tags, differs in (([], False), (["train"], True)):
        tokens = tf.saved_model.load(small_module_path, tags=tags).signatures["tokens"]
        a, b = (tokens(**feed)["pooled_output"].numpy() for _ in range(2))
        assert (not np.array_equal(a, b)) == differs, tags


def test_a_control_in_a_format_without_a_pooler_is_refused(tmp_path, small_hf_dir):
    from tfhub_pooling.builder.controls import Control
    from tfhub_pooling.errors import UsageError
    for fmt in ("preprocess", CHECKPOINT):
        with pytest.raises(UsageError, match="holds no pooler"):
            build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / fmt), fmt,
                               control=Control("identity"))
    assert os.listdir(tmp_path) == []
