"""LiteRT (TFLite) models as handles: files TensorFlow's own converter wrote
(builder/litert_converter.py calls it as users do), in float32, float16 and dynamic-range
int8, from the builder's TF2 modules, run by LiteRT's interpreter (ai-edge-litert)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tfhub_pooling import api
from tfhub_pooling.builder import build, sources
from tfhub_pooling.builder.litert_converter import FULL_INTEGER, MODES, convert
from tfhub_pooling.conventions import vocabs
from tfhub_pooling.formats import LITERT, TF2_DICT
from tfhub_pooling.numerics import bounds, comparison, structure
from tfhub_pooling.reports import parting as report
from tfhub_pooling.reports import render, schema, words

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "pooled_output[0] is different from sequence_output[0, 0, :].", ("A pair's first.", "Its second.")]


@pytest.fixture(scope="module")
def tf2_module(tmp_path_factory, small_hf_dir) -> str:
    return build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path_factory.mktemp("tf2") / "m"), TF2_DICT)


@pytest.fixture(scope="module")
def converted(tmp_path_factory, tf2_module) -> dict[str, str]:
    root = tmp_path_factory.mktemp("litert")
    return {mode: convert(tf2_module, str(root / f"tf2-{mode}.tflite"), mode, tf1=False) for mode in MODES}


@pytest.mark.parametrize("mode", MODES)
def test_each_conversion_matches_its_own_pooler(converted, minilm_dir, mode):
    r = api.verify(converted[mode], texts=TEXTS, vocab=str(minilm_dir / "vocab.txt"))
    assert r.verdict == comparison.MATCHES_POOLER, words.reason(r.comparison)
    assert r.module.format == LITERT and "pooler FULLY_CONNECTED found from the graph" in r.module.signature
    assert r.pooler.scheme == "litert-graph" and r.pooler.checkpoint.status == "read-from-file"
    assert f"pooler weights {mode}" in r.module.signature
    assert r.comparison.precision == (bounds.INT8_DYNAMIC if mode == "int8" else "float32")
    schema.validator("verify").validate(render.to_json(r))


def test_a_tf1_graphs_conversion_is_refused_in_one_line(tmp_path, small_module_path, minilm_dir, capsys):
    """Its weights stay resource variables, which LiteRT's interpreter leaves uninitialized."""
    from test_failures import fails
    path = convert(small_module_path, str(tmp_path / "tf1.tflite"), "float32", tf1=True)
    fails(capsys, ["verify", "--handle", path, "--vocab", str(minilm_dir / "vocab.txt")], 5, "resource variables")


@pytest.mark.filterwarnings("ignore:Statistics for quantized inputs were expected")   # the converter's own
def test_a_full_integer_model_is_refused_by_name(tmp_path, tf2_module, minilm_dir, capsys):
    """int8 activations, calibrated on a representative dataset: not read yet, and said so."""
    from test_failures import fails
    path = convert(tf2_module, str(tmp_path / "full.tflite"), FULL_INTEGER, tf1=False)
    fails(capsys, ["verify", "--handle", path, "--vocab", str(minilm_dir / "vocab.txt")], 5,
          "is a full-integer model (its FULLY_CONNECTED layers take int8 activations)")


def test_the_int8_bound_is_what_holds_a_quantized_pooler(converted, minilm_dir):
    """The float32 bound alone refuses the int8 model's pooler; its input-quantization term,
    derived in bounds.py, is what it stays within."""
    r = api.verify(converted["int8"], texts=TEXTS, vocab=str(minilm_dir / "vocab.txt"), structure_test=False)
    as_float32 = comparison.compare(r.pooled_output, r.sequence_output, r.inputs.input_mask, r.pooler.kernel,
                                    r.pooler.bias)
    assert as_float32.rebuild.elements_outside > 0
    assert r.comparison.rebuild.elements_outside == 0 and r.comparison.rebuild.worst_bound_ratio < 1


@pytest.mark.parametrize("mode", MODES)
def test_a_converted_module_agrees_with_its_source_within_its_precision(converted, tf2_module, minilm_dir, mode):
    vocab = str(minilm_dir / "vocab.txt")
    p = api.compare(tf2_module, f"{converted[mode]},vocab={vocab}", texts=TEXTS)
    assert p.verdict == "AGREE", [s for s in p.stages]
    assert p.b.module.weights_dtype == mode and p.stage("encoder").findings["precision"] == mode
    schema.validator("compare").validate(json.loads(report.REPORTERS["json"](p)))
    if mode == "int8":     # int8 rounds every kernel element, each within its channel's step
        weights = p.stage("pooler-weights")
        assert weights.findings["elements_within_a_step"] > 0 and 0 < weights.max_abs <= weights.bound
        assert "dynamic-range int8 precision" in report.terminal(p)


def test_a_weight_moved_past_a_quantization_step_parts_in_int8_and_one_within_does_not(tmp_path, small_hf_dir,
                                                                                       tf2_module, minilm_dir):
    """The converter folds the moved W' into the graph's constants, so the int8 file stores it."""
    from tfhub_pooling.builder.controls import Control
    vocab = str(minilm_dir / "vocab.txt")
    step = abs(api.verify(tf2_module, texts=TEXTS[:1], structure_test=False).pooler.kernel[:, 7]).max() / 127
    for amount, verdict in ((4 * step, "PART_AT_POOLER_WEIGHTS"), (0.2 * step, "AGREE")):
        moved = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / f"moved-{amount}"), TF2_DICT,
                                   control=Control("perturbed", amount=float(amount), row=3, col=7))
        path = convert(moved, str(tmp_path / f"moved-{amount}.tflite"), "int8", tf1=False)
        p = api.compare(tf2_module, f"{path},vocab={vocab}", texts=TEXTS)
        assert p.verdict == verdict, report.terminal(p)
        if verdict != "AGREE":
            first = p.stage("pooler-weights").findings["largest_kernel_differences"][0]
            assert (first["row"], first["col"]) == (3, 7)


def test_a_file_that_is_no_litert_model_is_one_line(tmp_path, capsys):
    from test_failures import fails
    fake = tmp_path / "model.tflite"
    fake.write_bytes(b"\x00" * 64)
    fails(capsys, ["verify", "--handle", str(fake), "--vocab", str(fake)], 4, "lacks the TFL3")
    fake.write_bytes(b"\x00\x00\x00\x00TFL3" + bytes(range(256)) * 4)     # the identifier, then no flatbuffer
    fails(capsys, ["verify", "--handle", str(fake), "--vocab", str(fake)], 4, "could not be loaded by LiteRT")


def test_inspect_reads_a_litert_model(converted):
    doc = api.inspect(converted["int8"])
    schema.validator("inspect").validate(doc)
    assert doc["module"]["format"] == LITERT and doc["pooler"]["scheme"] == "litert-graph"
    t = doc["litert"]
    assert sorted(t["inputs"].values()) == ["ids", "mask", "types"] and t["told_by"] == "graph"
    assert sorted(t["outputs"].values()) == ["pooled_output", "sequence_output"]
    assert t["pooler_kernel"]["dtype"] == "int8" and t["pooler_kernel"]["scales"] == 64     # one per channel
    assert t["bytes"] > 0
    from tfhub_pooling.reports import inspection
    assert "int8, 64 scales from" in inspection.terminal(doc)


@pytest.fixture(scope="module")
def minilm_int8(tmp_path_factory) -> str:
    from tfhub_pooling import provision
    return convert(provision.ensure_default(TF2_DICT), str(tmp_path_factory.mktemp("minilm") / "int8.tflite"), "int8",
                   tf1=False)


def test_the_real_weights_in_int8_raise_no_false_alarm(minilm_int8, minilm_dir):
    """MiniLM's real pooler, dynamic-range int8: its quantization error (measured 6.6e-3 on 256
    texts) stays inside the derived bound on generated texts, and the residual-structure test,
    run with int8's noise model, finds no structure in it."""
    vocab = str(minilm_dir / "vocab.txt")
    r = api.verify(minilm_int8, texts=vocabs.generate_texts(128, vocab, seed=5), vocab=vocab)
    assert r.verdict == comparison.MATCHES_POOLER, words.reason(r.comparison)
    assert r.comparison.rebuild.pooled_vs_rebuilt.max_abs > 1e-4       # int8's error, far past float32's
    assert r.comparison.rebuild.worst_bound_ratio < 1
    assert r.comparison.structure is not None and not r.comparison.structure.differs


def _hybrid(cls: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """LiteRT's hybrid FULLY_CONNECTED then TANH, in numpy: each row of cls quantized
    asymmetrically to 255 steps of (max - min) / 255 (zero exact), an exact integer sum, scaled back."""
    x = cls.astype(np.float64)
    step = (np.maximum(x.max(axis=1, keepdims=True), 0) - np.minimum(x.min(axis=1, keepdims=True), 0)) / 255
    return np.tanh(np.round(x / step) @ kernel * step + bias).astype(np.float32)


def test_the_int8_noise_model_catches_a_weight_moved_by_eight_steps(minilm_int8, minilm_dir):
    """A .tflite runs what it stores, so a pooler computing with other weights than it stores
    cannot be converted; its arithmetic can be computed. _hybrid gives the real file's
    pooled_output to float32 rounding, on the file's own cls; with one element of W moved by 8
    steps of its channel's scale, the structure test under int8's noise model names it on
    1,024 texts (the study's second look), and still finds nothing in the unmoved output."""
    vocab = str(minilm_dir / "vocab.txt")
    r = api.verify(minilm_int8, texts=vocabs.generate_texts(1024, vocab, seed=3), vocab=vocab,
                   structure_test=False, recover_weights=False)
    kernel, bias, step = r.pooler.kernel, r.pooler.bias, r.pooler.step
    assert np.abs(_hybrid(r.cls, kernel, bias) - r.pooled_output).max() < 1e-6
    moved = kernel.copy()
    moved[3, 7] += 8 * step[3, 7]
    found = structure.residual_structure(_hybrid(r.cls, moved, bias), r.cls, kernel, bias, bounds.INT8_DYNAMIC)
    assert found.differs and (found.row, found.col) == (3, 7), found
    assert not structure.residual_structure(r.pooled_output, r.cls, kernel, bias, bounds.INT8_DYNAMIC).differs


def test_a_conversion_without_a_pooler_gets_the_studys_verdict(tmp_path, small_hf_dir, minilm_dir):
    """An identity pooler (pooled_output = cls): the converter drops the unused weights, the
    graph has no TANH(dense(row 0)), and the outputs are still told apart by the graph."""
    from tfhub_pooling.builder.controls import Control
    module = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "identity"), TF2_DICT,
                                control=Control("identity"))
    path = convert(module, str(tmp_path / "identity.tflite"), "float32", tf1=False)
    r = api.verify(path, texts=TEXTS, vocab=str(minilm_dir / "vocab.txt"))
    assert r.verdict == comparison.EQUALS_CLS and r.pooler is None
    assert "told by graph" in r.module.signature and "no TANH(dense(row 0))" in r.module.signature
    assert "has no dense layer whose tanh is pooled_output" in r.pooler_search
