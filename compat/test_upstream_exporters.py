"""The study on modules the upstream exporters wrote, and the builder against them.

tensorflow_hub 0.15.0's TF1 exporter on google-research's modeling.py (as
google/bert_*/1 were made) and Model Garden 2.20.0's export_tfhub_lib (as the
TF2 encoders /3, /4 and their preprocessing model were made), each fed a
google-research checkpoint that the builder wrote.
"""

from __future__ import annotations

import collections
import json
import os
import tarfile

import numpy as np
import pytest

from tfhub_pooling import api, cli
from tfhub_pooling.builder import build, sources
from tfhub_pooling.formats import TF2_DICT
from tfhub_pooling.numerics.comparison import MATCHES_POOLER
from tfhub_pooling.reports import words
from tfhub_pooling.study import loading, saved_model_proto

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "Crème brûlée, naïve café: résumé!", "北京欢迎你 and 東京",
         ("A pair's first segment.", "Its second, with ümlauts."), "word " * 200]
KINDS = ("tf1_hub", "model_garden")
STYLE_OPS = ("BiasAdd", "BatchMatMulV2", "Einsum", "Tanh", "Pow", "Erf")


def _tar_gz(directory: str, archive) -> str:
    with tarfile.open(archive, "w:gz") as tar:
        for name in os.listdir(directory):
            tar.add(os.path.join(directory, name), arcname=name)
    return str(archive)


@pytest.mark.parametrize("kind", KINDS)
def test_upstream_export_verifies_as_directory_and_as_archive(kind, small_export, tmp_path):
    path = getattr(small_export, kind)
    for handle in (path, _tar_gz(path, tmp_path / "module.tar.gz")):
        r = api.verify(handle, texts=TEXTS)
        assert r.verdict == MATCHES_POOLER, words.reason(r.comparison)
        assert r.comparison.pooled_vs_cls.max_abs > 0.1          # and cls is not pooled_output
        assert r.module.vocab_source == loading.VOCAB_IN_MODULE


@pytest.mark.parametrize("kind", KINDS)
def test_inspect_reads_upstream_exports(kind, small_export, capsys):
    assert cli.main(["inspect", getattr(small_export, kind), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["pooler"]["kernel"]["shape"] == [64, 64]
    assert info["module"]["num_layers"] == 2
    assert info["built_by"] is None                    # not ours
    expected = {"tf1_hub": ["set()", '{"train"}'], "model_garden": ['{"serve"}']}[kind]
    assert info["module"]["graph_variants"] == expected


def test_tf1_export_has_what_google_published(small_export):
    """The two graph variants, and the vocab only on record: the placeholder in the graph."""
    proto = saved_model_proto.read(small_export.tf1_hub)
    assert saved_model_proto.graph_variants(proto) == [frozenset(), frozenset({"train"})]
    graph = saved_model_proto.meta_graph(proto)
    tensor = saved_model_proto.signature_output_tensor(graph, "tokenization_info", "vocab_file")
    node = next(n for n in graph.graph_def.node if n.name == tensor.split(":")[0])
    assert node.attr["value"].tensor.string_val[0] == b"SAVEDMODEL-ASSET"
    assert saved_model_proto.asset_records(graph) == {tensor: "vocab.txt"}
    assert len(graph.asset_file_def) == 0                # only hub's collection records it
    r = api.verify(small_export.tf1_hub, texts=["Hi."])
    assert (r.module.graph_variant, r.module.graph_variants) == ("set()", ["set()", '{"train"}'])


def test_our_tf1_writer_writes_what_the_exporter_writes(small_export, tmp_path):
    ours = build.build_module(sources.from_checkpoint(small_export.checkpoint), str(tmp_path / "m"))
    theirs, mine = (saved_model_proto.read(p) for p in (small_export.tf1_hub, ours))
    assert saved_model_proto.graph_variants(mine) == saved_model_proto.graph_variants(theirs)
    for tags in saved_model_proto.graph_variants(theirs):
        a, b = saved_model_proto.meta_graph(theirs, tags), saved_model_proto.meta_graph(mine, tags)
        assert sorted(a.signature_def) == sorted(b.signature_def)
        for name in a.signature_def:
            assert sorted(a.signature_def[name].inputs) == sorted(b.signature_def[name].inputs)
            assert sorted(a.signature_def[name].outputs) == sorted(b.signature_def[name].outputs)
        assert sorted(saved_model_proto.asset_records(a).values()) == \
            sorted(saved_model_proto.asset_records(b).values())
        assert not a.HasField("saver_def") and not b.HasField("saver_def")
        resource_ops = [{n.op for n in g.graph_def.node} & {"VarHandleOp", "VariableV2"} for g in (a, b)]
        assert resource_ops[0] == resource_ops[1] == {"VarHandleOp"}
        # modeling.py's graph style: dense layers as MatMul + BiasAdd on [B·S, H] matrices, which
        # oneDNN fuses with their activation; attention's products batched; no Einsum.
        # (MatMul is not compared: modeling.py looks up token types by a one-hot product.)
        style_ops = [collections.Counter(n.op for n in g.graph_def.node if n.op in STYLE_OPS) for g in (a, b)]
        assert style_ops[0] == style_ops[1]
        assert style_ops[1]["BiasAdd"] == 6 * 2 + 1 and not style_ops[1]["Einsum"]   # 6 a layer, the pooler


@pytest.mark.parametrize("export", ["small_export", "albert_export"])
def test_model_garden_preprocessing_gives_our_inputs_and_the_same_verdict(export, request):
    e = request.getfixturevalue(export)
    with_model = api.verify(e.model_garden, texts=TEXTS, preprocess=e.preprocess)
    ours = api.verify(e.model_garden, texts=TEXTS, max_seq_length=128)
    assert with_model.verdict == ours.verdict == MATCHES_POOLER
    width = ours.inputs.input_ids.shape[1]
    for name in ("input_ids", "input_mask", "segment_ids"):
        theirs = getattr(with_model.inputs, name)
        assert np.array_equal(theirs[:, :width], getattr(ours.inputs, name)), name
        assert not theirs[:, width:].any()
    assert np.abs(with_model.pooled_output - ours.pooled_output).max() <= 1e-5


@pytest.mark.parametrize("export", ["small_export", "albert_export"])
def test_inspect_reads_model_gardens_preprocessing_models(export, request, capsys):
    e = request.getfixturevalue(export)
    assert cli.main(["inspect", e.preprocess, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["module"]["format"] == "preprocess"
    encoder = api.load(e.model_garden)          # its encoder, with the casing both share
    assert info["module"]["do_lower_case"] == encoder.facts.do_lower_case
    if export == "small_export":                     # BERT's: vocab.txt in assets/, as the encoder's
        assert os.path.basename(info["module"]["vocab_file"]) == os.path.basename(encoder.facts.vocab_file)
    else:                                            # ALBERT's: its SentencePiece model is a graph constant
        assert info["module"]["vocab_file"] is None
        assert info["module"]["vocab_source"]["place"] == loading.VOCAB_IN_GRAPH.place


def test_model_garden_export_passes_its_own_export_checks(small_export):
    r = api.verify(small_export.model_garden, texts=TEXTS)
    checks = r.interface_checks
    assert checks["problems"] == [] and checks["encoder_outputs"] == checks["expected_encoder_outputs"] == 2
    assert checks["default_vs_pooled"] == 0 and checks["last_layer_vs_sequence"] == 0


@pytest.mark.parametrize("export", ["small_export", "minilm_export", "albert_export"])
def test_builder_computes_what_the_upstream_exporters_compute(export, request, tmp_path):
    """The builder, given the same checkpoint, against Google's TF1 module and Model Garden's TF2 one
    (ALBERT: google-research/albert's TF1 export and Model Garden's AlbertEncoder export)."""
    e = request.getfixturevalue(export)
    ours_tf2 = build.build_module(sources.from_checkpoint(e.checkpoint), str(tmp_path / "tf2"), TF2_DICT)
    pairs = {"tf1-hub": (e.checkpoint, e.tf1_hub), "tf2-dict": (ours_tf2, e.model_garden)}
    for fmt, (ours, theirs) in pairs.items():
        a, b = (api.verify(h, texts=TEXTS) for h in (ours, theirs))
        assert a.verdict == b.verdict == MATCHES_POOLER
        assert np.array_equal(a.inputs.input_ids, b.inputs.input_ids)
        real = a.inputs.input_mask.astype(bool)
        assert np.abs(a.sequence_output[real] - b.sequence_output[real]).max() <= 1e-5, fmt
        assert np.abs(a.pooled_output - b.pooled_output).max() <= 1e-5, fmt


def test_the_legacy_list_exporter_verifies(small_export):
    """official/legacy/bert/export_tfhub.py: list in, [pooled_output, sequence_output] out."""
    from tfhub_pooling.formats import TF2_LIST

    r = api.verify(small_export.legacy_list, texts=TEXTS)
    assert r.module.format == TF2_LIST
    assert r.verdict == MATCHES_POOLER, words.reason(r.comparison)
    assert r.pooler.kernel.shape == (64, 64) and r.module.vocab_source == loading.VOCAB_IN_MODULE
