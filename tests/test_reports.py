"""Reports for people and for CI: plot, Markdown, corpus mode, inspect, the
reusable assertion and the JSON schema."""

from __future__ import annotations

import json
import os
from importlib import resources

import jsonschema
import numpy as np
import pytest

from tfhub_pooling import cli
from tfhub_pooling.builder import build, sources
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.numerics import comparison
from tfhub_pooling.reports import render
from tfhub_pooling.study import corpus, pipeline, text_sources
from tfhub_pooling.testing import assert_pooler_matches


@pytest.fixture(scope="module")
def identity_module(tmp_path_factory, small_hf_dir):
    """A wrong pooler (pooled = cls), for outputs that must say no."""
    dest = tmp_path_factory.mktemp("identity") / "m"
    return build.build_module(sources.from_hf_dir(small_hf_dir), str(dest), control=Control("identity"))


def test_plot_is_a_whole_png(tmp_path, default_module_path, capsys):
    out = tmp_path / "pipeline.png"
    assert cli.main(["verify", "--plot", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert os.listdir(tmp_path) == ["pipeline.png"]


def test_markdown_report(default_module_path, capsys):
    assert cli.main(["verify", "--markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("### Is `pooled_output` = tanh(cls · W + b)? **MATCHES_POOLER**")
    assert "| pooled vs cls |" in md and "| pooled vs tanh(cls · W + b) |" in md
    assert "`bert/pooler/dense/kernel` [384, 384]" in md
    assert "passed through one more dense layer and tanh" in md


@pytest.mark.parametrize("fmt", ["", "--json", "--markdown"])
def test_verdict_name_in_every_output(fmt, identity_module, tmp_path, capsys):
    args = ["verify", "--handle", identity_module] + ([fmt] if fmt else [])
    assert cli.main(args) == 10
    assert "EQUALS_CLS" in capsys.readouterr().out
    texts = tmp_path / "t.txt"
    texts.write_text("One.\nTwo.\n")
    assert cli.main(args + ["--texts-file", str(texts)]) == 10
    assert "EQUALS_CLS" in capsys.readouterr().out


def test_json_document_follows_its_schema(default_module_path, identity_module, capsys):
    schema = json.loads(resources.files("tfhub_pooling").joinpath("reports/schemas/verify.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for handle, code in ((None, 0), (identity_module, 10)):
        assert cli.main(["verify", "--json"] + (["--handle", handle] if handle else [])) == code
        jsonschema.validate(json.loads(capsys.readouterr().out), schema)
    broken = render.to_json(pipeline.verify(texts=["Hi."]))
    broken["verdict"] = "PROBABLY_FINE"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_corpus_mode_reports_file_lines_and_matches_per_text_figures(tmp_path, default_loaded, capsys):
    texts = text_sources.generate_texts(300, default_loaded.vocab_file, seed=5)
    f = tmp_path / "corpus.txt"
    f.write_text("\n\n".join(t if isinstance(t, str) else "\t".join(t) for t in texts) + "\n",
                 encoding="utf-8")
    cr = pipeline.verify_corpus(str(f), module=default_loaded)
    whole = pipeline.verify(texts=texts, module=default_loaded)
    st = cr.stats
    assert cr.verdict == comparison.MATCHES_POOLER and st.texts == 300
    assert st.max_abs_cls == pytest.approx(whole.comparison.pooled_vs_cls.max_abs, abs=1e-5)
    assert st.max_abs_rebuilt == pytest.approx(whole.comparison.pooled_vs_rebuilt.max_abs, abs=1e-6)
    assert st.tokens == int(whole.inputs.input_mask.sum())
    # Length buckets pad far less than one batch padded to the longest text.
    assert st.padded_tokens < whole.inputs.input_mask.size
    assert len(st.worst) == corpus.WORST
    for w in st.worst:   # texts sit on every other line of the file
        assert w.line % 2 == 1 and texts[(w.line - 1) // 2] == w.text
    assert [w.bound_ratio for w in st.worst] == sorted((w.bound_ratio for w in st.worst), reverse=True)
    assert st.worst[0].bound_ratio == pytest.approx(whole.comparison.worst_bound_ratio, rel=0.5)
    assert not any(isinstance(v, np.ndarray) and v.size > 100 for v in vars(st).values())
    assert cli.main(["verify", "--json", "--texts-file", str(f)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["texts"] == 300 and doc["verdict"] == "MATCHES_POOLER" and len(doc["worst"]) == 5


def test_corpus_mode_refuses_per_text_options(tmp_path, capsys):
    f = tmp_path / "t.txt"
    f.write_text("One.\n")
    assert cli.main(["verify", "--texts-file", str(f), "--save-arrays", str(tmp_path / "a.npz")]) == 2
    assert "cannot go with --texts-file" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["tf1-hub", "tf2-dict", "preprocess"])
def test_inspect(fmt, tmp_path, small_hf_dir, capsys):
    path = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / fmt), fmt)
    assert cli.main(["inspect", path, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == fmt and info["do_lower_case"] is True
    if fmt == "preprocess":
        assert info["vocab_file"].endswith("vocab.txt")
        return
    assert info["variables"]["count"] == 39 and info["variables"]["summarised"]
    assert info["variables"]["parameters"] == sum(v.size for v in sources.from_hf_dir(small_hf_dir).params.values())
    expected = {"tf1-hub": ("bert/pooler/dense/kernel", "google-research", [[]]),
                "tf2-dict": ("pooler_transform/kernel", "model-garden", [["serve"]])}[fmt]
    assert (info["pooler"]["kernel"], info["pooler"]["scheme"]) == expected[:2]
    assert [mg["tags"] for mg in info["meta_graphs"]] == expected[2]
    if fmt == "tf1-hub":
        tokens = info["meta_graphs"][0]["signatures"]["tokens"]
        assert tokens["outputs"]["pooled_output"] == {"dtype": "float32", "shape": [-1, 64]}
    assert cli.main(["inspect", path]) == 0
    assert f"{expected[1]} naming" in capsys.readouterr().out


def test_assertion_for_other_test_suites(default_module_path, identity_module):
    r = assert_pooler_matches(texts=["Hello from CI."])
    assert r.ok
    with pytest.raises(AssertionError, match=r"EQUALS_CLS.*max \|pooled - cls\| 0"):
        assert_pooler_matches(identity_module)
