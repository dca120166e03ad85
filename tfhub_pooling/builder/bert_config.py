"""A BERT's shape and numbers, in one form every writer consumes.

Parameters carry google-research names, dense kernels [in, out], as
`modeling.py` computes `x · W + b`. Two layouts share the one definition:

  BERT    google-research/bert: `bert/encoder/layer_{n}/...`, one set of weights a layer
  ALBERT  google-research/albert: embeddings of width E < H projected to H by
          `bert/encoder/embedding_hidden_mapping_in`, and one set of layer weights,
          `bert/encoder/transformer/group_0/inner_group_0/...`, shared by every layer
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

import numpy as np

from tfhub_pooling.conventions import naming
from tfhub_pooling.conventions.checkpoints import ALBERT, BERT
from tfhub_pooling.errors import UsageError

# The activation forms the one BERT computes.
GELU_EXACT = "gelu_exact"   # x · Phi(x), with erf
GELU_TANH = "gelu_tanh"     # the tanh approximation of modeling.py since the TF Hub modules
RELU = "relu"
ACTIVATION_FORMS = {GELU_EXACT: "GELU, exact (erf)", GELU_TANH: "GELU, tanh approximation", RELU: "ReLU"}

# What a config file's activation name means depends on who wrote the file.
# google-research switched modeling.py's "gelu" to the tanh form in the commit
# that published the TF Hub modules, and Model Garden's "gelu" is approximate
# too; Hugging Face's "gelu" is the exact form and "gelu_new" the tanh one.
HF_CONFIG = "hf"
GOOGLE_RESEARCH_CONFIG = "google-research"
ACTIVATION_NAMES: dict[str, dict[str, str]] = {
    HF_CONFIG: {"gelu": GELU_EXACT, "gelu_new": GELU_TANH, "gelu_pytorch_tanh": GELU_TANH,
                "gelu_fast": GELU_TANH, "relu": RELU},
    GOOGLE_RESEARCH_CONFIG: {"gelu": GELU_TANH, "relu": RELU},
}

ARCHITECTURES = (BERT, ALBERT)

# Where each part of a transformer layer is stored, under the layer's scope.
LAYER_PARTS: dict[str, dict[str, str]] = {
    BERT: {"query": "attention/self/query", "key": "attention/self/key",
           "value": "attention/self/value", "attention_output": "attention/output/dense",
           "attention_norm": "attention/output/LayerNorm", "intermediate": "intermediate/dense",
           "output": "output/dense", "output_norm": "output/LayerNorm"},
    # albert/modeling.py's attention_ffn_block; its two LayerNorms are unnamed, so TF
    # numbered them.
    ALBERT: {"query": "attention_1/self/query", "key": "attention_1/self/key",
             "value": "attention_1/self/value", "attention_output": "attention_1/output/dense",
             "attention_norm": "LayerNorm", "intermediate": "ffn_1/intermediate/dense",
             "output": "ffn_1/intermediate/output/dense", "output_norm": "LayerNorm_1"},
}
ALBERT_SHARED_LAYER = "bert/encoder/transformer/group_0/inner_group_0"
EMBEDDING_PROJECTION = "bert/encoder/embedding_hidden_mapping_in"   # ALBERT, where E != H

# albert_base's shape (its albert_config.json), for ALBERT modules built with random weights.
ALBERT_BASE = {"architecture": ALBERT, "hidden_size": 768, "embedding_size": 128, "num_hidden_layers": 12,
               "num_attention_heads": 12, "intermediate_size": 3072}

POOLER_KERNEL = naming.GOOGLE_RESEARCH_SCHEME.pooler_kernel
POOLER_BIAS = naming.GOOGLE_RESEARCH_SCHEME.pooler_bias


@dataclasses.dataclass(frozen=True)
class BertConfig:
    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = GELU_TANH         # one of ACTIVATION_FORMS
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1            # only the {"train"} graph variant applies dropout
    attention_probs_dropout_prob: float = 0.1
    architecture: str = BERT                    # one of ARCHITECTURES
    embedding_size: int | None = None           # E, ALBERT's embedding width; None: H

    def __post_init__(self) -> None:
        for field in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                      "intermediate_size", "max_position_embeddings", "type_vocab_size"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"BERT config: {field} must be a positive integer, got {value!r}")
        if self.hidden_size % self.num_attention_heads:
            raise UsageError(
                f"hidden size {self.hidden_size} is not a multiple of "
                f"{self.num_attention_heads} heads; pick sizes that divide")
        if self.hidden_act not in ACTIVATION_FORMS:
            raise UsageError(f"activation {self.hidden_act!r} is not supported; "
                             f"use one of {', '.join(ACTIVATION_FORMS)}")
        if self.architecture not in ARCHITECTURES:
            raise UsageError(f"architecture {self.architecture!r}: choose one of {', '.join(ARCHITECTURES)}")
        if self.embedding_size is not None:
            if isinstance(self.embedding_size, bool) or not isinstance(self.embedding_size, int) \
                    or self.embedding_size < 1:
                raise UsageError(f"BERT config: embedding_size must be a positive integer, "
                                 f"got {self.embedding_size!r}")
            if self.architecture == BERT and self.embedding_size != self.hidden_size:
                raise UsageError(f"embedding_size {self.embedding_size} differs from hidden_size "
                                 f"{self.hidden_size}: that is ALBERT's factorized embedding, not BERT's")

    @property
    def embedding_width(self) -> int:
        """E: the width of the embedding tables."""
        return self.embedding_size or self.hidden_size

    @classmethod
    def from_json_dict(cls, d: Mapping, convention: str, architecture: str = BERT) -> BertConfig:
        """Reads a HF config.json (convention HF_CONFIG), a bert_config.json or an
        albert_config.json (GOOGLE_RESEARCH_CONFIG, architecture ALBERT).

        The activation name is read in the file's own convention; the forms
        themselves (gelu_exact, gelu_tanh) are accepted in either.
        """
        names = {f.name for f in dataclasses.fields(cls)} - {"architecture"}
        kwargs = {k: v for k, v in d.items() if k in names} | {"architecture": architecture}
        if architecture == ALBERT:
            groups = (d.get("num_hidden_groups", 1), d.get("inner_group_num", 1))
            if groups != (1, 1):
                raise UsageError(f"ALBERT config: num_hidden_groups {groups[0]}, inner_group_num "
                                 f"{groups[1]}; only 1 and 1 (every published ALBERT) are supported")
        act = kwargs.get("hidden_act", "gelu")
        if act not in ACTIVATION_FORMS:
            known = ACTIVATION_NAMES[convention]
            if act not in known:
                raise UsageError(f"activation {act!r} in a {convention} config is not supported; "
                                 f"use one of {', '.join(known)}")
            kwargs["hidden_act"] = known[act]
        return cls(**kwargs)

    def to_google_research_json(self) -> dict:
        """bert_config.json as modeling.BertConfig and Model Garden read it."""
        d = dataclasses.asdict(self)
        del d["architecture"]
        d["hidden_act"] = {GELU_TANH: "gelu", RELU: "relu"}.get(self.hidden_act, self.hidden_act)
        d["initializer_range"] = 0.02
        if self.architecture == ALBERT:
            d |= {"embedding_size": self.embedding_width, "num_hidden_groups": 1, "inner_group_num": 1}
        else:
            del d["embedding_size"]
        return d

    @property
    def activation_form(self) -> str:
        return ACTIVATION_FORMS[self.hidden_act]


@dataclasses.dataclass
class BertWeights:
    """A BERT's numbers under google-research names, plus what tokenizes for it."""

    config: BertConfig
    params: dict[str, np.ndarray]   # float32; kernels [in, out]
    vocab_file: str                 # WordPiece vocab (one token a line), or ALBERT's SentencePiece model
    do_lower_case: bool
    description: str                # where the numbers came from, for reports


def layer_names(config: BertConfig, n: int) -> dict[str, str]:
    """Layer n's parts (LAYER_PARTS keys) -> their variable scopes. ALBERT's layers
    all read the one shared set."""
    scope = f"bert/encoder/layer_{n}" if config.architecture == BERT else ALBERT_SHARED_LAYER
    return {part: f"{scope}/{name}" for part, name in LAYER_PARTS[config.architecture].items()}


def param_shapes(config: BertConfig) -> dict[str, tuple[int, ...]]:
    """Every variable of a google-research BERT or ALBERT and its shape."""
    h, i, e = config.hidden_size, config.intermediate_size, config.embedding_width
    shapes = {
        "bert/embeddings/word_embeddings": (config.vocab_size, e),
        "bert/embeddings/position_embeddings": (config.max_position_embeddings, e),
        "bert/embeddings/token_type_embeddings": (config.type_vocab_size, e),
        "bert/embeddings/LayerNorm/gamma": (e,),
        "bert/embeddings/LayerNorm/beta": (e,),
        POOLER_KERNEL: (h, h),
        POOLER_BIAS: (h,),
    }
    if e != h:
        shapes |= {f"{EMBEDDING_PROJECTION}/kernel": (e, h), f"{EMBEDDING_PROJECTION}/bias": (h,)}
    for n in range(config.num_hidden_layers):    # ALBERT's names repeat: one shared set
        names = layer_names(config, n)
        for part, (d_in, d_out) in {"query": (h, h), "key": (h, h), "value": (h, h),
                                    "attention_output": (h, h), "intermediate": (h, i),
                                    "output": (i, h)}.items():
            shapes[f"{names[part]}/kernel"] = (d_in, d_out)
            shapes[f"{names[part]}/bias"] = (d_out,)
        for norm in ("attention_norm", "output_norm"):
            shapes[f"{names[norm]}/gamma"] = (h,)
            shapes[f"{names[norm]}/beta"] = (h,)
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


# (google-research name pattern, another exporter's name) pairs, for rename().
NameTable = Sequence[tuple[str, str]]


def rename(table: NameTable, name: str) -> str:
    """A google-research parameter name in another exporter's naming (the writers' tables)."""
    for pattern, replacement in table:
        if re.fullmatch(pattern, name):
            return re.sub(pattern, replacement, name)
    raise KeyError(name)
