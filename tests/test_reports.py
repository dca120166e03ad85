"""Reports for people and for CI: plot, Markdown, corpus mode, inspect, the
reusable assertion and the JSON schema."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest

from tfhub_pooling import api, cli
from tfhub_pooling.builder import build, sources
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.conventions import vocabs
from tfhub_pooling.numerics import comparison
from tfhub_pooling.reports import render, schema
from tfhub_pooling.study import corpus
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
    assert capsys.readouterr().err.splitlines()[-1] == f"wrote {out}"


def test_terminal_report_names_both_cosines_and_answers_in_words(default_module_path, capsys):
    assert cli.main(["verify", "--text", "Hello!"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.lstrip().startswith("#"))
    assert "cos(p,cls)" in header and "cos(p,rebuilt)" in header
    assert out.rstrip().endswith("while cls itself does not.")
    assert cli.main(["verify", "--text", "Hello!", "--markdown"]) == 0
    assert ", 1 text\n" in capsys.readouterr().out


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


def _document(capsys, *args: str) -> dict:
    cli.main(list(args))
    return json.loads(capsys.readouterr().out)


def test_every_document_follows_its_schema(default_module_path, identity_module, tmp_path, capsys):
    corpus_file = tmp_path / "corpus.txt"
    corpus_file.write_text("One text.\nA pair\tof segments.\n", encoding="utf-8")
    documents = {
        "verify": [_document(capsys, "verify", "--json"),
                   _document(capsys, "verify", "--json", "--handle", identity_module)],
        "corpus": [_document(capsys, "verify", "--json", "--texts-file", str(corpus_file))],
        "inspect": [_document(capsys, "inspect", "--json"),
                    _document(capsys, "inspect", "--json", identity_module)],
    }
    for name, docs in documents.items():
        validator = schema.validator(name)
        validator.check_schema(schema.load(name))
        for doc in docs:
            validator.validate(doc)
        broken = json.loads(json.dumps(docs[0]))
        broken["module"]["max_seq_length"] = "512"
        with pytest.raises(jsonschema.ValidationError):
            validator.validate(broken)
    broken = documents["verify"][0] | {"verdict": "PROBABLY_FINE"}
    with pytest.raises(jsonschema.ValidationError):
        schema.validator("verify").validate(broken)


def test_documents_share_one_vocabulary(default_module_path, tmp_path, capsys):
    """The same module, pooler and lengths under the same names in all three documents."""
    corpus_file = tmp_path / "corpus.txt"
    corpus_file.write_text("One text.\n", encoding="utf-8")
    args = ("--json", "--max-seq-length", "16")
    verify = _document(capsys, "verify", *args)
    corpus = _document(capsys, "verify", *args, "--texts-file", str(corpus_file))
    inspect = _document(capsys, "inspect", "--json")
    assert verify["module"] == corpus["module"] == inspect["module"]
    assert verify["pooler"] == corpus["pooler"] == inspect["pooler"]
    assert verify["module"]["max_seq_length"] == 512              # the module's own maximum
    assert verify["inputs"]["trimmed_to"] == corpus["inputs"]["trimmed_to"] == 16
    from importlib import metadata

    import tensorflow as tf

    for doc in (verify, corpus, inspect):
        assert doc["schema_version"] == render.SCHEMA_VERSION
        assert doc["produced_by"] == {"tool": "tfhub-pooling", "version": metadata.version("tfhub-pooling"),
                                      "tensorflow": tf.__version__}


def test_corpus_mode_reports_file_lines_and_matches_per_text_figures(tmp_path, default_loaded, capsys):
    texts = vocabs.generate_texts(300, default_loaded.facts.vocab_file, seed=5)
    f = tmp_path / "corpus.txt"
    f.write_text("\n\n".join(t if isinstance(t, str) else "\t".join(t) for t in texts) + "\n",
                 encoding="utf-8")
    cr = api.verify_corpus(str(f), module=default_loaded)
    whole = api.verify(texts=texts, module=default_loaded)
    st, sm, c = cr.stats, cr.stats.summary, whole.comparison
    assert cr.verdict == comparison.MATCHES_POOLER and st.texts == 300
    assert sm.elements == c.elements
    assert sm.pooled_vs_cls.max_abs == pytest.approx(c.pooled_vs_cls.max_abs, abs=1e-5)
    assert sm.pooled_vs_cls.mean_abs == pytest.approx(c.pooled_vs_cls.mean_abs, rel=1e-4)
    assert sm.pooled_vs_cls.min_cosine == pytest.approx(c.pooled_vs_cls.min_cosine, abs=1e-5)
    assert sm.rebuild.pooled_vs_rebuilt.max_abs == pytest.approx(c.rebuild.pooled_vs_rebuilt.max_abs, abs=1e-6)
    assert st.tokens == int(whole.inputs.input_mask.sum())
    # Length buckets pad far less than one batch padded to the longest text.
    assert st.padded_tokens < whole.inputs.input_mask.size
    assert len(st.worst) == corpus.WORST
    for w in st.worst:   # texts sit on every other line of the file
        assert w.line % 2 == 1 and texts[(w.line - 1) // 2] == w.text
    assert [w.bound_ratio for w in st.worst] == sorted((w.bound_ratio for w in st.worst), reverse=True)
    assert st.worst[0].bound_ratio == pytest.approx(c.rebuild.worst_bound_ratio, rel=0.5)
    assert cli.main(["verify", "--json", "--texts-file", str(f)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["inputs"]["text_count"] == 300 and doc["verdict"] == "MATCHES_POOLER"
    assert len(doc["worst"]) == 5


def test_corpus_mode_refuses_per_text_options(tmp_path, capsys):
    f = tmp_path / "t.txt"
    f.write_text("One.\n")
    assert cli.main(["verify", "--texts-file", str(f), "--save-arrays", str(tmp_path / "a.npz")]) == 2
    assert "cannot go with --texts-file" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["tf1-hub", "tf2-dict", "preprocess"])
def test_inspect(fmt, tmp_path, small_hf_dir, capsys):
    path = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / fmt), fmt)
    info = _document(capsys, "inspect", path, "--json")
    m = info["module"]
    assert m["format"] == fmt and m["do_lower_case"] is True
    assert m["vocab_file"] == os.path.join(path, "assets", "vocab.txt")
    assert info["built_by"]["activation"] == "GELU, tanh approximation"   # SMALL_CONFIG says gelu_new
    if fmt == "preprocess":
        assert info["variables"] is None and info["pooler"] is None
        return
    assert info["variables"]["count"] == 39 and info["variables"]["summarised"]
    assert info["variables"]["parameters"] == sum(v.size for v in sources.from_hf_dir(small_hf_dir).params.values())
    expected = {"tf1-hub": ("bert/pooler/dense/kernel", "google-research", [[], ["train"]]),
                "tf2-dict": ("pooler_transform/kernel", "model-garden", [["serve"]])}[fmt]
    assert (info["pooler"]["kernel"]["name"], info["pooler"]["scheme"]) == expected[:2]
    assert sorted(mg["tags"] for mg in info["meta_graphs"]) == expected[2]
    assert m["num_layers"] == 2 and m["max_seq_length"] == 128
    if fmt == "tf1-hub":
        assert m["graph_variants"] == ["set()", '{"train"}'] and m["graph_variant"] == "set()"
        tokens = info["meta_graphs"][0]["signatures"]["tokens"]
        assert tokens["outputs"]["pooled_output"] == {"dtype": "float32", "shape": [-1, 64]}
    assert cli.main(["inspect", path]) == 0
    out = capsys.readouterr().out
    assert f"{expected[1]} naming" in out
    if fmt == "tf1-hub":
        assert "tags [] (empty set)  (inference: the study runs this one)" in out


def test_assertion_for_other_test_suites(default_module_path, identity_module):
    r = assert_pooler_matches(texts=["Hello from CI."])
    assert r.ok
    with pytest.raises(AssertionError, match=r"EQUALS_CLS.*max \|pooled - cls\| 0"):
        assert_pooler_matches(identity_module)


def test_a_model_zoo_in_one_run(tmp_path, small_module_path, identity_module, capsys):
    zoo = tmp_path / "zoo.txt"
    zoo.write_text(f"{small_module_path}\n# a comment\n{identity_module}\n/no/such/module\n", encoding="utf-8")
    assert cli.main(["verify", "--handles-file", str(zoo), "--json", "--text", "Hello."]) == 20
    doc = json.loads(capsys.readouterr().out)
    schema.validator("zoo").validate(doc)
    assert [m["verdict"] for m in doc["modules"]] == ["MATCHES_POOLER", "EQUALS_CLS", None]
    assert [m["exit_code"] for m in doc["modules"]] == [0, 10, 3] and doc["matching"] == 1
    assert "does not exist" in doc["modules"][2]["error"]
    assert cli.main(["verify", "--handle", small_module_path, "--handle", small_module_path,
                     "--text", "Hello."]) == 0
    out = capsys.readouterr().out
    assert out.count("MATCHES_POOLER") == 2 and "2 of 2 modules" in out


def test_the_zoo_markdown_is_a_commonmark_table(small_module_path, identity_module, capsys):
    """docs/ci-example.yml writes it into GitHub's step summary, which renders tables."""
    from markdown_it import MarkdownIt

    assert cli.main(["verify", "--handle", small_module_path, "--handle", identity_module,
                     "--markdown", "--text", "Hello."]) == 20
    html = MarkdownIt("commonmark").enable("table").render(capsys.readouterr().out)
    header = html[html.index("<thead>"):html.index("</thead>")]
    assert header.count("<th>") == len(render.ZOO_HEADER)
    assert "max |pooled-rebuilt|" in header
    assert html.count("<tr>") == 3 and "EQUALS_CLS" in html


def test_the_schema_names_every_pooler_naming_scheme_and_no_other():
    """A module pooled under any scheme of the one naming table gives a document that validates."""
    from tfhub_pooling.conventions import naming
    pooler = schema.load("common")["$defs"]["pooler"]["oneOf"][1]
    assert pooler["properties"]["scheme"]["enum"] == [s.name for s in naming.SCHEMES]


def test_the_vocab_places_are_one_list_in_code_schema_and_words():
    from tfhub_pooling.study import loading
    place = schema.load("common")["$defs"]["module"]["properties"]["vocab_source"]["properties"]["place"]
    assert place["enum"] == list(loading.PLACES) == list(render.PLACE_WORDS)
