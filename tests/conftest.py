"""Shared modules for the suite, each built once per session into a temp cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

# The private caches and quiet logs come from the repository's conftest.py.
pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def minilm_dir():
    from tfhub_pooling import provision
    return provision.weights_dir()


@pytest.fixture(scope="session")
def default_module_path(private_caches):
    from tfhub_pooling import provision
    return provision.ensure_default()


@pytest.fixture(scope="session")
def default_loaded(default_module_path):
    from tfhub_pooling import api
    return api.load(None)


def write_hf_dir(path, config: dict, params: dict, vocab_file) -> None:
    """Writes a HF-layout BERT directory (safetensors, [out, in] Linear weights)."""
    from safetensors.numpy import save_file
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(config))
    (path / "vocab.txt").write_text(open(vocab_file, encoding="utf-8").read(), encoding="utf-8")
    save_file(params, str(path / "model.safetensors"))


SMALL_CONFIG = {"vocab_size": 30522, "hidden_size": 64, "num_hidden_layers": 2,
                "num_attention_heads": 2, "intermediate_size": 256, "hidden_act": "gelu_new",
                "max_position_embeddings": 128, "type_vocab_size": 2, "layer_norm_eps": 1e-12}


@pytest.fixture(scope="session")
def small_hf_dir(tmp_path_factory, minilm_dir):
    """A seeded random small BERT in HF layout, with the real uncased vocab.

    gelu_new (tanh GELU) on purpose: the default module covers exact GELU.
    """
    from tfhub_pooling.builder import bert_config, sources
    config = bert_config.BertConfig.from_json_dict(SMALL_CONFIG, bert_config.HF_CONFIG)
    w = sources.random_weights(config, str(minilm_dir / "vocab.txt"), seed=7)
    hf = {}
    for name, value in w.params.items():
        hf_name = google_to_hf_name(name)
        hf[hf_name] = np.ascontiguousarray(value.T if name.endswith("/kernel") else value)
    path = tmp_path_factory.mktemp("small") / "hf"
    write_hf_dir(path, SMALL_CONFIG, hf, minilm_dir / "vocab.txt")
    return path


def google_to_hf_name(name: str) -> str:
    """The inverse naming, written independently of sources.hf_to_google_name."""
    parts = name.removeprefix("bert/").split("/")
    out = []
    for p in parts:
        if p.startswith("layer_"):
            out += ["layer", p.removeprefix("layer_")]
        else:
            out.append({"kernel": "weight", "gamma": "weight", "beta": "bias"}.get(p, p))
    if out[-1].endswith("_embeddings"):
        out.append("weight")
    return ".".join(out)


@pytest.fixture(scope="session")
def small_module_path(tmp_path_factory, small_hf_dir):
    from tfhub_pooling.builder import build, sources
    dest = tmp_path_factory.mktemp("small-module") / "module"
    return build.build_module(sources.from_hf_dir(small_hf_dir), str(dest))
