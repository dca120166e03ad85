"""ALBERT as its upstream exporters wrote it: google-research/albert's
export_to_tfhub.py on albert-tensorflow 1.1's modeling.py with tensorflow_hub
0.15.0 (as google/albert_base/1-3), and Model Garden 2.20.0's export_tfhub_lib
with sp_model_file (as tensorflow/albert_en_base/1-3 and albert_en_preprocess/3),
each fed an ALBERT checkpoint the builder wrote. The preprocessing-model and
builder-against-exporter checks are test_upstream_exporters.py's, run on ALBERT too."""

from __future__ import annotations

import os
import tarfile

import pytest

from tfhub_pooling import api
from tfhub_pooling.builder import build, sources
from tfhub_pooling.numerics.comparison import MATCHES_POOLER
from tfhub_pooling.reports import words
from tfhub_pooling.study import loading, saved_model_proto

TEXTS = ["ALBERT shares one layer's weights across all twelve layers.",
         "Crème brûlée, naïve café: résumé!", "北京欢迎你 and 東京",
         ("A pair's first segment.", "Its second, with ümlauts."), "word " * 200]
KINDS = ("tf1_hub", "model_garden")


@pytest.mark.parametrize("kind", KINDS)
def test_upstream_albert_verifies_as_directory_and_as_archive(kind, albert_export, tmp_path):
    path = getattr(albert_export, kind)
    archive = tmp_path / "module.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in os.listdir(path):
            tar.add(os.path.join(path, name), arcname=name)
    for handle in (path, str(archive)):
        r = api.verify(handle, texts=TEXTS)
        assert r.verdict == MATCHES_POOLER, words.reason(r.comparison)
        assert r.comparison.pooled_vs_cls.max_abs > 0.1
        assert r.module.vocab_source == loading.VOCAB_IN_MODULE and r.module.vocab_file.endswith(".model")
        assert r.tokenizer.startswith("tensorflow_text SentencepieceTokenizer")


def test_google_albert_vocab_is_the_signatures_tensor(albert_export):
    """tokenization_info's vocab_file is `vocab_model:0` (the .model); the constant named
    `vocab_file` is the .vocab listing, and the config is an asset too."""
    graph = saved_model_proto.meta_graph(saved_model_proto.read(albert_export.tf1_hub))
    assert saved_model_proto.signature_output_tensor(graph, "tokenization_info", "vocab_file") == "vocab_model:0"
    assert saved_model_proto.asset_records(graph) == {"vocab_model:0": "30k-clean.model",
                                                      "vocab_file:0": "30k-clean.vocab",
                                                      "config_file:0": "albert_config.json"}
    assert {"tokens", "mlm", "tokenization_info"} <= set(graph.signature_def)


def test_our_tf1_writer_records_albert_assets_as_the_exporter_does(albert_export, tmp_path):
    ours = build.build_module(sources.from_checkpoint(albert_export.checkpoint), str(tmp_path / "m"))
    theirs, mine = (saved_model_proto.meta_graph(saved_model_proto.read(p)) for p in (albert_export.tf1_hub, ours))
    for graph in (theirs, mine):
        tensor = saved_model_proto.signature_output_tensor(graph, "tokenization_info", "vocab_file")
        assert saved_model_proto.asset_records(graph)[tensor] == "30k-clean.model"
        assert saved_model_proto.asset_records(graph)["vocab_file:0"] == "30k-clean.vocab"


def test_model_garden_albert_passes_its_own_export_checks(albert_export):
    checks = api.verify(albert_export.model_garden, texts=TEXTS).interface_checks
    assert checks["problems"] == [] and checks["encoder_outputs"] == 3
    assert checks["default_vs_pooled"] == 0 and checks["last_layer_vs_sequence"] == 0
