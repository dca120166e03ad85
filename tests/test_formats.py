"""Every way a BERT reaches TF Hub users: TF1 Hub, TF2 dict and list encoders,
the preprocessing model, and google-research checkpoint directories."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from in_flight import assert_in_flight_bit_for_bit

from tfhub_pooling import api, formats
from tfhub_pooling.builder import build, sources, tf2_writer
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.errors import InterfaceError, NotAModuleError
from tfhub_pooling.numerics import comparison
from tfhub_pooling.reports import words
from tfhub_pooling.study import input_source, loading, stored_pooler, stored_variables
from tfhub_pooling.study.encoder_inputs import Tokenizer

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "Crème brûlée, naïve café: résumé!", "北京欢迎你 and 東京",
         "Punctuation?! (lots) -- of it... \"quoted\" #hash @at",
         ("A pair's first segment.", "Its second, with ümlauts."),
         "word " * 200, ("long " * 100, "longer " * 150)]


@pytest.fixture(scope="module")
def small_weights(small_hf_dir):
    return sources.from_hf_dir(small_hf_dir)


@pytest.fixture(scope="module")
def modules(tmp_path_factory, small_weights):
    root = tmp_path_factory.mktemp("formats")
    return {fmt: build.build_module(small_weights, str(root / fmt), fmt)
            for fmt in (*formats.ENCODERS, formats.PREPROCESS)}


def test_formats_agree_and_each_verifies(modules):
    results = {fmt: api.verify(modules[fmt], texts=TEXTS) for fmt in formats.ENCODERS}
    ref = results[formats.TF1_HUB]
    for fmt, r in results.items():
        assert r.module.format == fmt
        assert r.verdict == comparison.MATCHES_POOLER, (fmt, words.reason(r.comparison))
        assert np.array_equal(r.inputs.input_ids, ref.inputs.input_ids)
        assert np.abs(r.pooled_output - ref.pooled_output).max() <= 1e-5
        real = r.inputs.input_mask.astype(bool)
        assert np.abs(r.sequence_output[real] - ref.sequence_output[real]).max() <= 1e-5


@pytest.mark.parametrize("fmt", formats.ENCODERS)
def test_batches_in_flight_change_no_bit_in_any_format(fmt, modules):
    module = api.load(modules[fmt])
    packed = Tokenizer(module.facts.vocab_file, module.facts.do_lower_case).pack(TEXTS, 128)
    assert_in_flight_bit_for_bit(module, [(i, packed.batch([i, (i + 3) % len(TEXTS)])) for i in range(len(TEXTS))])


def test_tf2_pooler_is_found_under_model_garden_names(modules):
    r = api.verify(modules[formats.TF2_DICT], texts=["Hi."])
    assert (r.pooler.kernel_name, r.pooler.scheme) == ("pooler_transform/kernel", "model-garden")
    assert r.pooler.source == stored_variables.VARIABLES_SOURCE
    assert r.pooler.checkpoint == stored_pooler.CheckpointCheck("matches", ("pooler_transform/kernel",
                                                                            "pooler_transform/bias"))
    assert r.module.max_seq_length == 128


def test_tf2_dict_outputs(modules):
    obj = loading.load_saved_model(modules[formats.TF2_DICT])
    ids = tf.constant([[101, 7592, 102]], tf.int32)
    out = obj({"input_word_ids": ids, "input_mask": tf.ones_like(ids), "input_type_ids": tf.zeros_like(ids)})
    assert len(out["encoder_outputs"]) == 2
    assert np.array_equal(out["encoder_outputs"][-1], out["sequence_output"])
    assert np.array_equal(out["default"], out["pooled_output"])


def test_lost_variable_names_fall_back_to_the_checkpoint(tmp_path, small_weights):
    path = str(tmp_path / "unnamed")
    tf2_writer.write(small_weights, path, keep_variable_names=False)
    module = api.load(path)
    assert all(v.name.startswith("Variable") for v in module.variables)
    assert module.facts.max_seq_length == 128            # read off the checkpoint too
    r = api.verify(module=module, texts=["Hi."])
    assert r.ok, words.reason(r.comparison)
    assert r.pooler.source == stored_variables.CHECKPOINT_SOURCE
    assert r.pooler.kernel_name == "pooler_transform/kernel"


def test_preprocessing_model_matches_our_tokenizer(modules, small_weights):
    pre = input_source.load_preprocessor(modules[formats.PREPROCESS])
    ours = Tokenizer(small_weights.vocab_file, small_weights.do_lower_case)
    a, b = pre.encode(TEXTS, 128), ours.encode(TEXTS, 128)
    width = b.input_ids.shape[1]
    assert a.input_ids.shape == (len(TEXTS), 128) and width == 128
    for name in ("input_ids", "input_mask", "segment_ids", "token_counts", "truncated"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.truncated.tolist() == [False] * 5 + [True, True]


def test_verify_with_the_preprocessing_model(modules):
    r = api.verify(modules[formats.TF2_DICT], texts=TEXTS[:5], preprocess=modules[formats.PREPROCESS])
    assert r.ok and r.tokenizer.startswith("preprocessing model")
    assert r.inputs.input_ids.shape == (5, 128)


def test_google_research_checkpoint_directory(tmp_path, small_weights, modules):
    ckpt = tmp_path / "uncased_L-2_H-64_A-2"
    ckpt.mkdir()
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        variables = {n: v1.get_variable(n, initializer=v) for n, v in small_weights.params.items()}
        saver = v1.train.Saver(variables)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            saver.save(sess, str(ckpt / "bert_model.ckpt"), write_meta_graph=False)
    config = {k: getattr(small_weights.config, k) for k in small_weights.config.__dataclass_fields__}
    (ckpt / "bert_config.json").write_text(json.dumps(config))
    (ckpt / "vocab.txt").write_text(open(small_weights.vocab_file, encoding="utf-8").read(), encoding="utf-8")
    r = api.verify(str(ckpt), texts=TEXTS[:3])
    assert r.ok, words.reason(r.comparison)
    assert r.module.handle.startswith(f"google-research checkpoint {ckpt}, built into")
    ref = api.verify(modules[formats.TF1_HUB], texts=TEXTS[:3])
    assert np.array_equal(r.pooled_output, ref.pooled_output)
    doc = api.inspect(str(ckpt))      # inspect finds and builds it as verify does
    assert doc["module"]["handle"] == r.module.handle and doc["module"]["format"] == formats.TF1_HUB
    assert doc["pooler"]["kernel"]["name"] == r.pooler.kernel_name


def test_detection_and_refusals(modules, tmp_path):
    for fmt in formats.ENCODERS:
        assert api.load(modules[fmt]).facts.format == fmt
    with pytest.raises(InterfaceError, match="preprocessing model, not an encoder"):
        api.load(modules[formats.PREPROCESS])
    with pytest.raises(InterfaceError, match="no BERT preprocessing model"):
        input_source.load_preprocessor(modules[formats.TF2_DICT])
    (tmp_path / "stuff.txt").write_text("x")
    with pytest.raises(NotAModuleError, match="is none of: TF1 Hub module, TF2 SavedModel"):
        api.load(str(tmp_path))
    plain = tf.Module()
    plain.f = tf.function(lambda x: x * 2, input_signature=[tf.TensorSpec([None], tf.float32)])
    tf.saved_model.save(plain, str(tmp_path / "plain"))
    with pytest.raises(InterfaceError, match="no BERT encoder"):
        api.load(str(tmp_path / "plain"))


@pytest.mark.parametrize("fmt", [formats.TF2_DICT, formats.TF2_LIST])
@pytest.mark.parametrize("control, verdict", [
    (Control("identity"), comparison.EQUALS_CLS),
    (Control("hidden-weights"), comparison.NO_POOLER_WEIGHTS),
    (Control("perturbed", amount=0.05, row=1, col=2), comparison.POOLER_WEIGHTS_DIFFER),   # diagnosed by default
])
def test_controls_in_tf2_formats(fmt, control, verdict, tmp_path, small_weights):
    path = build.build_module(small_weights, str(tmp_path / "m"), fmt, control=control)
    r = api.verify(path)
    assert r.verdict == verdict, words.reason(r.comparison)


def test_a_dict_encoder_that_breaks_model_gardens_checks_gets_its_own_verdict(modules, tmp_path):
    """`default` != pooled_output, one layer short: the pooler still matches, the interface does not."""
    inner = tf.saved_model.load(modules[formats.TF2_DICT])
    ids = tf.TensorSpec([None, None], tf.int32)

    root = tf.train.Checkpoint()
    root.inner, root.vocab_file, root.do_lower_case = inner, inner.vocab_file, inner.do_lower_case
    root.variables = list(inner.variables)

    @tf.function(input_signature=[{"input_word_ids": ids, "input_mask": ids, "input_type_ids": ids}])
    def call(inputs):
        out = inner(inputs)
        return {"pooled_output": out["pooled_output"], "sequence_output": out["sequence_output"],
                "default": out["pooled_output"] + 1.0, "encoder_outputs": out["encoder_outputs"][:1]}

    root.__call__ = call
    tf.saved_model.save(root, str(tmp_path / "broken"))
    r = api.verify(str(tmp_path / "broken"), texts=TEXTS[:2])
    assert r.verdict == comparison.INCONSISTENT_OUTPUTS and r.exit_code == 15
    breaches = [f.subject for f in r.comparison.findings if f.check == "contract"]
    assert breaches == list(r.comparison.problems) == r.interface_checks["problems"] and len(breaches) == 3
    assert "`default` differs from pooled_output (max |diff| 1)" in breaches[0]
    assert api.verify(modules[formats.TF2_DICT], texts=TEXTS[:2]).interface_checks["problems"] == []
