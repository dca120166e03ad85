"""KerasHub presets (Kaggle Models' Keras format) as handles, written by keras_hub itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras_hub
import numpy as np
import pytest
from in_flight import assert_in_flight_bit_for_bit

from tfhub_pooling import api, cli
from tfhub_pooling.builder import build, sources
from tfhub_pooling.formats import KERAS_HUB
from tfhub_pooling.numerics import comparison
from tfhub_pooling.process_env import LEGACY_KERAS
from tfhub_pooling.reports import words
from tfhub_pooling.study.encoder_inputs import Tokenizer

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "Crème brûlée, naïve café!", ("A pair's first segment.", "Its second.")]


@pytest.fixture(scope="module")
def minilm_preset(tmp_path_factory, minilm_dir):
    return build.build_module(sources.from_hf_dir(minilm_dir), str(tmp_path_factory.mktemp("kh") / "p"),
                              KERAS_HUB)


def test_a_preset_verifies_and_equals_keras_hubs_own_conversion(minilm_preset, minilm_dir):
    r = api.verify(minilm_preset, texts=TEXTS)
    assert r.verdict == comparison.MATCHES_POOLER, words.reason(r.comparison)
    assert (r.pooler.kernel_name, r.pooler.scheme) == ("pooled_dense/kernel", "keras-hub")
    assert r.module.format == KERAS_HUB and r.tokenizer.startswith("the preset's own KerasHub BertTokenizer")
    # keras_hub's own converter reads the same HF safetensors: the preset must hold the same model.
    theirs = keras_hub.models.BertBackbone.from_preset(str(minilm_dir))
    out = theirs({"token_ids": r.inputs.input_ids, "segment_ids": r.inputs.segment_ids,
                  "padding_mask": r.inputs.input_mask})
    real = r.inputs.input_mask.astype(bool)
    assert np.abs(np.asarray(out["sequence_output"])[real] - r.sequence_output[real]).max() <= 1e-5
    assert np.abs(np.asarray(out["pooled_output"]) - r.pooled_output).max() <= 1e-5


def test_an_eager_preset_runs_batches_in_flight_bit_for_bit(minilm_preset):
    module = api.load(minilm_preset)
    packed = Tokenizer(module.facts.vocab_file, module.facts.do_lower_case).pack(TEXTS * 3, 64)
    assert_in_flight_bit_for_bit(module, [(i, packed.batch([i, (i + 4) % 9])) for i in range(9)])


def test_a_preset_computes_the_tanh_gelu_and_our_modules_agree_when_the_source_does(
        tmp_path, small_hf_dir, minilm_preset, default_loaded):
    """small_hf_dir says gelu_new (tanh), as KerasHub computes: preset and TF1 module agree.
    MiniLM says exact GELU: the preset differs from the default module by the GELU form only."""
    weights = sources.from_hf_dir(small_hf_dir)
    preset = build.build_module(weights, str(tmp_path / "p"), KERAS_HUB)
    tf1 = build.build_module(weights, str(tmp_path / "m"))
    a, b = (api.verify(h, texts=TEXTS) for h in (preset, tf1))
    assert np.array_equal(a.inputs.input_ids, b.inputs.input_ids)
    real = a.inputs.input_mask.astype(bool)
    assert np.abs(a.sequence_output[real] - b.sequence_output[real]).max() <= 1e-5
    c, d = api.verify(minilm_preset, texts=TEXTS), api.verify(module=default_loaded, texts=TEXTS)
    gap = np.abs(c.sequence_output[real[:, :c.sequence_output.shape[1]]]
                 - d.sequence_output[real[:, :d.sequence_output.shape[1]]]).max()
    assert 1e-4 < gap < 1e-2


def test_a_backbone_without_a_pooled_output_gets_its_own_code(tmp_path, minilm_dir, capsys):
    backbone = keras_hub.models.DistilBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2,
                                                   hidden_dim=32, intermediate_dim=64, max_sequence_length=64)
    backbone.save_to_preset(str(tmp_path / "distil"))
    keras_hub.models.DistilBertTokenizer(vocabulary=str(minilm_dir / "vocab.txt")).save_to_preset(
        str(tmp_path / "distil"))
    assert cli.main(["verify", "--handle", str(tmp_path / "distil")]) == 16
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "DistilBertBackbone returns one tensor [None, None, 32] and no pooled_output" in err[0]


def test_inspect_a_preset(minilm_preset, capsys):
    assert cli.main(["inspect", minilm_preset, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    k = info["keras_preset"]
    assert k["class"] == "BertBackbone" and k["tokenizer"] == "BertTokenizer" and "pooled_dense" in k["layers"]
    assert k["config"]["hidden_dim"] == 384 and info["meta_graphs"] == []
    assert info["pooler"]["kernel"] == {"name": "pooled_dense/kernel", "shape": [384, 384], "dtype": "float32"}
    assert info["built_by"]["activation"] == "GELU, tanh approximation"
    assert info["module"]["vocab_file"].endswith("assets/tokenizer/vocabulary.txt")


@pytest.mark.parametrize("handle", ["kaggle://keras/bert/keras/bert_tiny_en_uncased/2",
                                    "https://www.kaggle.com/models/keras/bert/keras/bert_tiny_en_uncased/2"])
def test_a_kaggle_handle_offline_ends_in_one_line(handle, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path))
    assert cli.main(["verify", "--handle", handle]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: cannot fetch {handle}") and "--handle" in err[0]


@pytest.mark.parametrize("control, verdict, code", [("identity", "EQUALS_CLS", 10), ("mean", "MEAN_POOLED", 11)])
def test_a_negative_control_preset_is_caught(control, verdict, code, tmp_path, small_hf_dir, capsys):
    """A preset written with a registered Keras class whose pooled_output is not its pooler."""
    path = str(tmp_path / control)
    assert cli.main(["build", path, "--hf-dir", str(small_hf_dir), "--format", KERAS_HUB,
                     "--control", control]) == 0
    assert json.load(open(f"{path}/config.json"))["registered_name"] == "tfhub_pooling>ControlBertBackbone"
    capsys.readouterr()
    assert cli.main(["verify", "--handle", path]) == code
    assert f"verdict            {verdict}" in capsys.readouterr().out


def test_a_control_a_preset_cannot_hold_is_refused(tmp_path, small_hf_dir, capsys):
    assert cli.main(["build", str(tmp_path / "p"), "--hf-dir", str(small_hf_dir), "--format", KERAS_HUB,
                     "--control", "perturbed"]) == 2
    assert "only the identity and mean controls" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_an_albert_preset_written_by_keras_hub_verifies_with_its_own_sentencepiece_tokenizer(tmp_path):
    """keras_hub's AlbertBackbone and AlbertTokenizer (over the trained ALBERT SentencePiece
    model), saved by keras_hub's save_to_preset: vocabulary.spm, pooled_dense."""
    from tfhub_pooling import provision
    from tfhub_pooling.conventions import vocabs
    vocab = provision.albert_vocab()
    keras_hub.models.AlbertBackbone(
        vocabulary_size=vocabs.read(vocab).size, num_layers=2, num_heads=2, embedding_dim=16, hidden_dim=64,
        intermediate_dim=128, max_sequence_length=128).save_to_preset(str(tmp_path / "albert"))
    keras_hub.models.AlbertTokenizer(proto=vocab).save_to_preset(str(tmp_path / "albert"))
    r = api.verify(str(tmp_path / "albert"), texts=TEXTS)
    assert r.verdict == comparison.MATCHES_POOLER, words.reason(r.comparison)
    assert (r.pooler.kernel_name, r.pooler.scheme) == ("pooled_dense/kernel", "keras-hub")
    assert r.tokenizer.startswith("the preset's own KerasHub AlbertTokenizer over the module's vocabulary.spm")
    own = keras_hub.models.AlbertTokenizer.from_preset(str(tmp_path / "albert"))
    first = r.inputs.input_ids[0][r.inputs.input_mask[0] == 1]
    assert list(first[1:-1]) == [int(i) for i in own(TEXTS[0])] and first[0] == own.cls_token_id


def test_a_preset_verifies_through_the_command(minilm_preset):
    """The command names tf_keras for tf.keras (process_env.py); a preset still loads in Keras 3."""
    proc = subprocess.run([sys.executable, "-m", "tfhub_pooling", "verify", "--handle", minilm_preset, "--json"],
                          capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != LEGACY_KERAS})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == comparison.MATCHES_POOLER and doc["module"]["format"] == KERAS_HUB
