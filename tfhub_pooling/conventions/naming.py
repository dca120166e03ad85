"""The one table of how BERT exporters name the pooler (and the embedding tables).

Each scheme gives variable names without the `:0` suffix. A variable matches a
scheme when its name equals the pattern or ends with `/` + pattern, so prefixes
added by wrapping (`module/`, `bert_model/`, `keras_layer/`, `tf_bert_model/`)
are tolerated. Where patterns nest (`pooler/dense/kernel` is a suffix of
`bert/pooler/dense/kernel`), the longest match names the scheme. A safetensors key's
dots are read as slashes (`bert.pooler.dense.weight` -> `bert/pooler/dense/weight`),
so one matching rule serves TensorFlow's names and PyTorch's.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class NamingScheme:
    name: str
    source: str                 # where the naming comes from
    pooler_kernel: str          # [H, H], applied as cls · kernel
    pooler_bias: str            # [H]
    position_embeddings: str    # [max_seq_length, H]
    word_embeddings: str        # [vocab_size, E]: one row a vocab entry
    kernel_out_in: bool = False  # the kernel is stored [out, in] (PyTorch's Linear): read it transposed


GOOGLE_RESEARCH_SCHEME = NamingScheme(
    "google-research", "google-research/bert modeling.py; TF1 Hub BERT modules",
    "bert/pooler/dense/kernel", "bert/pooler/dense/bias", "bert/embeddings/position_embeddings",
    "bert/embeddings/word_embeddings")
MODEL_GARDEN_SCHEME = NamingScheme(
    "model-garden", "TF Model Garden BertEncoder and AlbertEncoder; TF2 Hub BERT and ALBERT encoders",
    "pooler_transform/kernel", "pooler_transform/bias", "position_embedding/embeddings",
    "word_embeddings/embeddings")
MODEL_GARDEN_SCAFFOLD_SCHEME = NamingScheme(
    "model-garden-scaffold", "TF Model Garden EncoderScaffold; TF2 Hub Talking-Heads BERT encoders",
    "cls_transform/kernel", "cls_transform/bias", "position_embedding/embeddings",
    "word_embeddings/embeddings")
MODEL_GARDEN_MOBILEBERT_SCHEME = NamingScheme(
    "model-garden-mobilebert", "TF Model Garden MobileBERTEncoder (classifier_activation=True)",
    "pooler/kernel", "pooler/bias", "position_embedding/embeddings", "word_embedding/embeddings")
HF_TF_SCHEME = NamingScheme(
    "hf-tf", "Hugging Face TFBertModel (Keras)",
    "pooler/dense/kernel", "pooler/dense/bias", "embeddings/position_embeddings/embeddings",
    "embeddings/word_embeddings/weight")
KERAS_HUB_SCHEME = NamingScheme(
    "keras-hub", "KerasHub BertBackbone",
    "pooled_dense/kernel", "pooled_dense/bias", "position_embedding/embeddings",
    "token_embedding/embeddings")

HF_PYTORCH_SCHEME = NamingScheme(
    "hf-pytorch", "Hugging Face BertModel (PyTorch), as save_pretrained writes it to safetensors",
    "pooler/dense/weight", "pooler/dense/bias", "embeddings/position_embeddings/weight",
    "embeddings/word_embeddings/weight", kernel_out_in=True)
HF_PYTORCH_ALBERT_SCHEME = NamingScheme(
    "hf-pytorch-albert", "Hugging Face AlbertModel (PyTorch), as save_pretrained writes it to safetensors",
    "pooler/weight", "pooler/bias", "embeddings/position_embeddings/weight",
    "embeddings/word_embeddings/weight", kernel_out_in=True)

# A LiteRT file names no weights the same way twice; the study finds the pooler's operator
# from the graph (study/litert.py) and names its constants so.
LITERT_GRAPH_SCHEME = NamingScheme(
    "litert-graph", "LiteRT (TFLite): the FULLY_CONNECTED whose TANH is pooled_output, found from the graph",
    "pooler_fully_connected/kernel", "pooler_fully_connected/bias", "position_embeddings/table",
    "word_embeddings/table")

SCHEMES: tuple[NamingScheme, ...] = (GOOGLE_RESEARCH_SCHEME, MODEL_GARDEN_SCHEME, MODEL_GARDEN_SCAFFOLD_SCHEME,
                                     MODEL_GARDEN_MOBILEBERT_SCHEME, HF_TF_SCHEME, KERAS_HUB_SCHEME,
                                     HF_PYTORCH_SCHEME, HF_PYTORCH_ALBERT_SCHEME, LITERT_GRAPH_SCHEME)


def strip_suffix(name: str) -> str:
    """`bert/pooler/dense/kernel:0` -> `bert/pooler/dense/kernel`."""
    return name.rsplit(":", 1)[0] if ":" in name else name


def matches(name: str, pattern: str) -> bool:
    name = strip_suffix(name)
    return name == pattern or name.endswith("/" + pattern)
