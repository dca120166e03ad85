"""A BERT's shape and numbers, in one form every writer consumes.

Parameters carry google-research names (`bert/encoder/layer_0/...`), dense
kernels [in, out], as `modeling.py` computes `x · W + b`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Mapping, Sequence

import numpy as np

from tfhub_pooling.errors import UsageError
from tfhub_pooling.study import naming

# The activation forms the one BERT computes.
GELU_EXACT = "gelu_exact"   # x · Phi(x), with erf
GELU_TANH = "gelu_tanh"     # the tanh approximation of modeling.py since the TF Hub modules
RELU = "relu"
ACTIVATION_FORMS = {GELU_EXACT: "GELU, exact (erf)", GELU_TANH: "GELU, tanh approximation", RELU: "ReLU"}

# What a config file's activation name means depends on who wrote the file.
# google-research switched modeling.py's "gelu" to the tanh form in the commit
# that published the TF Hub modules, and Model Garden's "gelu" is approximate
# too; Hugging Face's "gelu" is the exact form and "gelu_new" the tanh one.
HF = "hf"
GOOGLE_RESEARCH = "google-research"
ACTIVATION_NAMES: dict[str, dict[str, str]] = {
    HF: {"gelu": GELU_EXACT, "gelu_new": GELU_TANH, "gelu_pytorch_tanh": GELU_TANH,
         "gelu_fast": GELU_TANH, "relu": RELU},
    GOOGLE_RESEARCH: {"gelu": GELU_TANH, "relu": RELU},
}

POOLER_KERNEL = naming.GOOGLE_RESEARCH.pooler_kernel
POOLER_BIAS = naming.GOOGLE_RESEARCH.pooler_bias


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

    @classmethod
    def from_json_dict(cls, d: Mapping, convention: str) -> "BertConfig":
        """Reads a HF config.json (convention HF) or a bert_config.json (GOOGLE_RESEARCH).

        The activation name is read in the file's own convention; the forms
        themselves (gelu_exact, gelu_tanh) are accepted in either.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
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
        d["hidden_act"] = {GELU_TANH: "gelu", RELU: "relu"}.get(self.hidden_act, self.hidden_act)
        d["initializer_range"] = 0.02
        return d

    @property
    def activation_form(self) -> str:
        return ACTIVATION_FORMS[self.hidden_act]


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


# (google-research name pattern, another exporter's name) pairs, for rename().
NameTable = Sequence[tuple[str, str]]


def rename(table: NameTable, name: str) -> str:
    """A google-research parameter name in another exporter's naming (the writers' tables)."""
    for pattern, replacement in table:
        if re.fullmatch(pattern, name):
            return re.sub(pattern, replacement, name)
    raise KeyError(name)
