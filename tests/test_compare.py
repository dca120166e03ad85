"""compare: where two models' pooled outputs part, on pairs of the same real weights.

The pairs: the embedded TF1 module (this project's builder) and the Hugging Face checkpoint
it was built from (run by keras_hub); the same checkpoint told the tanh GELU; a KerasHub
preset that keras_hub's own converter made of that checkpoint; a module whose graph moves
one pooler weight from what it stores; a checkpoint whose stored pooler has one weight moved.
"""

from __future__ import annotations

import json
import os

import keras_hub
import numpy as np
import pytest
from markdown_it import MarkdownIt
from safetensors import safe_open
from safetensors.numpy import save_file
from test_failures import fails

from tfhub_pooling import api, cli
from tfhub_pooling.builder import build, sources
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.reports import parting as report
from tfhub_pooling.reports import schema
from tfhub_pooling.testing import assert_same_pooler

ACCENTED = "Zürich's café served crème brûlée."
PLAIN = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         ("Why does the pooled output differ?", "It is one more dense layer and tanh.")]


def _hf_copy(root, minilm_dir, name: str, config: dict | None = None, pooler_weight=None):
    """The real checkpoint's files beside a config (or pooler weight) of this test's."""
    path = root / name
    path.mkdir()
    base = json.loads((minilm_dir / "config.json").read_text())
    (path / "config.json").write_text(json.dumps(base | (config or {})))
    for f in ("vocab.txt", "tokenizer_config.json"):
        os.symlink(minilm_dir / f, path / f)
    if pooler_weight is None:
        os.symlink(minilm_dir / "model.safetensors", path / "model.safetensors")
    else:
        with safe_open(str(minilm_dir / "model.safetensors"), framework="np") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        tensors["pooler.dense.weight"] = pooler_weight(tensors["pooler.dense.weight"].copy())
        save_file(tensors, str(path / "model.safetensors"), metadata={"format": "pt"})
    return str(path)


def test_the_tf1_module_and_the_checkpoint_it_was_built_from_agree(minilm_dir, default_module_path, capsys):
    p = api.compare(None, str(minilm_dir))
    assert p.verdict == "AGREE" and p.exit_code == 0, report.terminal(p)
    assert [s.status for s in p.stages] == ["agrees"] * 4
    assert p.stage("encoder").max_abs < p.stage("encoder").bound
    assert p.stage("pooler").max_abs < 1e-6
    doc = report.to_json(p)
    schema.validator("compare").validate(doc)
    assert doc["a"]["module"]["format"] == "tf1-hub" and doc["b"]["module"]["format"] == "hf-checkpoint"
    html = MarkdownIt("commonmark").enable("table").render(report.markdown(p))
    assert html.count("<tr>") == 5 and "AGREE" in html
    assert cli.main(["compare", "default", str(minilm_dir), "--text", "Hello there."]) == 0
    assert capsys.readouterr().out.rstrip().splitlines()[-1].startswith("verdict  AGREE")


def test_the_gelu_form_is_named_where_the_encoders_part(tmp_path, minilm_dir, default_module_path):
    tanh = _hf_copy(tmp_path, minilm_dir, "tanh", {"hidden_act": "gelu_new"})
    p = api.compare(None, tanh, texts=PLAIN)
    assert p.verdict == "PART_AT_ENCODER" and p.exit_code == 22
    encoder = p.stage("encoder")
    assert encoder.max_abs > 10 * encoder.bound
    assert encoder.findings["explained_by"]["cause"] == "gelu-form"
    assert (encoder.findings["explained_by"]["side"], encoder.findings["explained_by"]["runs"]) == ("b", "gelu_new")
    assert encoder.findings["explained_by"]["max_abs_diff_with_other"] < encoder.bound
    assert p.stage("pooler-weights").status == "agrees"


def test_keras_hubs_own_conversion_parts_at_the_tokenizer_on_accents(tmp_path, minilm_dir, default_module_path):
    """keras_hub's converter makes a BertTokenizer that keeps accents, so its uncased vocab
    has no piece for them; without accents, the ids agree and the encoders part by the GELU."""
    preset = str(tmp_path / "converted")
    keras_hub.models.Backbone.from_preset(str(minilm_dir)).save_to_preset(preset)
    keras_hub.models.Tokenizer.from_preset(str(minilm_dir)).save_to_preset(preset)
    p = api.compare(None, preset, texts=[*PLAIN, ACCENTED])
    assert p.verdict == "PART_AT_TOKENIZER" and p.exit_code == 21
    t = p.stage("tokenizer").findings
    assert (t["first_text"], t["likely_cause"]) == (2, "accents")
    assert "[UNK]" in (t["piece_a"], t["piece_b"])
    p = api.compare(None, preset, texts=PLAIN)
    assert p.verdict == "PART_AT_ENCODER"
    assert p.stage("encoder").findings["explained_by"]["runs"] == "gelu_new"


def test_a_graph_that_moves_one_weight_parts_at_the_pooler(tmp_path, small_hf_dir, small_module_path):
    moved = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "moved"),
                               control=Control("perturbed", amount=0.05, row=3, col=7))
    p = api.compare(small_module_path, moved, texts=PLAIN)
    assert p.verdict == "PART_AT_POOLER" and p.exit_code == 24, report.terminal(p)
    assert p.stage("pooler-weights").status == "agrees"      # both store the same W
    assert p.stage("pooler").findings["verdict_b"] == "POOLER_WEIGHTS_DIFFER"
    with pytest.raises(AssertionError, match=r"^PART_AT_POOLER: "):
        assert_same_pooler(small_module_path, moved, texts=PLAIN)


def test_a_stored_weight_moved_parts_at_the_pooler_weights_and_is_named(tmp_path, minilm_dir):
    def move(weight):                 # PyTorch's [out, in]: W[in=5, out=3] in the kernel's terms
        weight[3, 5] += 1e-3
        return weight
    moved = _hf_copy(tmp_path, minilm_dir, "moved", pooler_weight=move)
    p = api.compare(str(minilm_dir), moved, texts=PLAIN)
    assert p.verdict == "PART_AT_POOLER_WEIGHTS" and p.exit_code == 23
    w = p.stage("pooler-weights").findings
    assert w["kernel_elements_differing"] == 1 and w["bias_elements_differing"] == 0
    element = w["largest_kernel_differences"][0]
    assert (element["row"], element["col"]) == (5, 3)
    assert np.isclose(element["b"] - element["a"], 1e-3, rtol=1e-3)


@pytest.mark.parametrize("argv, fragment", [
    (["compare", "default", "default,shape=3"], "is no option of a handle"),
    (["compare", "default", ",vocab=v.txt"], "names no handle"),
])
def test_a_side_written_wrong_is_one_line(capsys, argv, fragment):
    fails(capsys, argv, 2, fragment)


def test_the_plugin_compares_pairs_one_test_each(pytester, tmp_path, minilm_dir, default_module_path):
    tanh = _hf_copy(tmp_path, minilm_dir, "tanh", {"hidden_act": "gelu_new"})
    result = pytester.runpytest_subprocess(f"--pooler-compare=default::{minilm_dir}",
                                           f"--pooler-compare=default::{tanh}", "-v")
    result.assert_outcomes(passed=1, failed=1)
    out = "\n".join(result.outlines)
    assert f"pooler-compare[default vs {minilm_dir}] PASSED" in out
    assert f"pooler-compare[default vs {tanh}] FAILED" in out and "PART_AT_ENCODER" in out
