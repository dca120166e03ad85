"""A Hugging Face checkpoint directory (transformers' save_pretrained, PyTorch layout) ->
a loaded module.

The directory holds config.json (`model_type`, `hidden_act`, the sizes), model.safetensors
or shards that model.safetensors.index.json names, and the tokenizer's files (vocab.txt,
spiece.model, or tokenizer.json alone). keras_hub's own converter for the model_type
builds the backbone and ports the weights, an implementation of the checkpoint
independent of this project's builder. Where keras_hub computes otherwise than
transformers (its BertBackbone's GELU is always the tanh form; its layer norms' epsilon
and segment count are fixed), the backbone is set to the config's own arithmetic
(FAITHFUL_ACTIVATIONS), and the signature says so. The pooler is read from the
safetensors file itself (the hf-pytorch naming schemes), never from the ported copy.

  backbone({"token_ids", "segment_ids", "padding_mask"}: int32 [B, S])
      -> {"sequence_output" [B, S, H], "pooled_output" [B, H]}
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np
import tensorflow as tf

from tfhub_pooling import untrusted
from tfhub_pooling.errors import (
    InterfaceError,
    NoPooledOutputError,
    NotAModuleError,
    UsageError,
    first_line,
)
from tfhub_pooling.formats import HF_CHECKPOINT
from tfhub_pooling.study import stored_variables
from tfhub_pooling.study.loading import (
    HF_TOKENIZER_CONFIG,
    HF_VOCAB,
    LoadedModule,
    ModuleFacts,
    VocabSource,
    least_precise,
)
from tfhub_pooling.study.stored_variables import Entry

CONFIG_FILE = "config.json"
SAFETENSORS, SHARD_INDEX = "model.safetensors", "model.safetensors.index.json"
# Weights in formats this tool never opens: a pickle runs code when it is loaded.
UNREAD_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack")
SENTENCEPIECE, TOKENIZER_JSON = "spiece.model", "tokenizer.json"
EXTRA = "pip install 'tfhub-pooling[keras-hub]'"

# model_type -> the key prefix a task or pre-training class saves the encoder under.
FAMILIES = {"bert": "bert.", "albert": "albert.", "distilbert": "distilbert.", "roberta": "roberta.",
            "xlm-roberta": "roberta."}
# keras_hub's backbones for these return no pooled_output (transformers' RobertaModel has a pooler).
NO_POOLED = {"distilbert": "DistilBertBackbone", "roberta": "RobertaBackbone", "xlm-roberta": "XLMRobertaBackbone"}
# transformers' ACT2FN names -> what Keras computes for them (approximate: the tanh form of GELU).
FAITHFUL_ACTIVATIONS = {"gelu": ("gelu", False), "gelu_python": ("gelu", False),
                        "gelu_new": ("gelu", True), "gelu_pytorch_tanh": ("gelu", True), "gelu_fast": ("gelu", True),
                        "relu": ("relu", None), "silu": ("silu", None), "swish": ("silu", None)}
# What keras_hub's BERT and ALBERT backbones fix, whatever config.json says.
KERAS_HUB_LAYER_NORM_EPS = 1e-12
SIZES = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
         "max_position_embeddings")


def is_checkpoint(path: str) -> bool:
    """config.json naming a transformers model_type, beside weights of any kind (those
    this tool does not open are refused by load(), in one line)."""
    config_file = os.path.join(path, CONFIG_FILE)
    if not os.path.isfile(config_file):
        return False
    try:
        config = untrusted.read_json(config_file, CONFIG_FILE, NotAModuleError)
    except NotAModuleError:
        return False
    return (isinstance(config, dict) and isinstance(config.get("model_type"), str)
            and any(os.path.exists(os.path.join(path, f)) for f in (SAFETENSORS, SHARD_INDEX, *UNREAD_WEIGHTS)))


def read_config(path: str) -> dict[str, Any]:
    """config.json, held to a family keras_hub converts and to sizes that make a model
    this machine can hold."""
    config = untrusted.read_json(os.path.join(path, CONFIG_FILE), CONFIG_FILE, NotAModuleError)
    if not isinstance(config, dict):
        raise NotAModuleError(f"{path}: config.json is no JSON object; is it a Hugging Face checkpoint?")
    model_type = config.get("model_type")
    if model_type not in FAMILIES:
        raise NotAModuleError(f"{path}: config.json's model_type is {model_type!r}; the tool reads the BERT "
                              f"family keras_hub converts ({', '.join(FAMILIES)})")
    sizes = {k: config.get(k) for k in SIZES if k in config or model_type not in NO_POOLED}
    bad = [f"{k} {v!r}" for k, v in sizes.items() if isinstance(v, bool) or not isinstance(v, int) or v < 1]
    if bad:
        raise NotAModuleError(f"{path}: config.json gives {', '.join(bad)}; each must be a whole number of at "
                              "least 1")
    if model_type not in NO_POOLED:
        h, heads, i = config["hidden_size"], config["num_attention_heads"], config["intermediate_size"]
        if h % heads:
            raise NotAModuleError(f"{path}: config.json gives hidden_size {h}, which {heads} heads do not divide")
        e = config.get("embedding_size", h) if isinstance(config.get("embedding_size"), int) else h
        layers = config.get("num_hidden_groups", config["num_hidden_layers"])
        layers = layers if isinstance(layers, int) and layers > 0 else config["num_hidden_layers"]
        parameters = (config["vocab_size"] + config["max_position_embeddings"]) * e + layers * (4 * h * h + 2 * h * i)
        untrusted.check_fits(4 * parameters, f"the checkpoint {path} ({CONFIG_FILE})", NotAModuleError)
    return config


def weight_files(path: str) -> list[str]:
    """The safetensors files that hold the weights: the shards the index names, each inside
    the directory and present, or model.safetensors."""
    index = os.path.join(path, SHARD_INDEX)
    if os.path.isfile(index):
        doc = untrusted.read_json(index, SHARD_INDEX, NotAModuleError, limit=64 << 20)
        weight_map = doc.get("weight_map") if isinstance(doc, dict) else None
        if not isinstance(weight_map, dict) or not weight_map or not all(
                isinstance(v, str) for v in weight_map.values()):
            raise NotAModuleError(f"{index} has no weight_map of tensor names to file names; it is damaged")
        files = []
        for name in sorted(set(weight_map.values())):
            shard = untrusted.inside(path, name, f"a shard {SHARD_INDEX} names", NotAModuleError)
            if not os.path.isfile(shard.path):
                raise NotAModuleError(f"{path}: {SHARD_INDEX} names the shard {name}, which is missing; "
                                      "fetch the checkpoint again")
            files.append(shard.path)
        return files
    if os.path.isfile(os.path.join(path, SAFETENSORS)):
        return [os.path.join(path, SAFETENSORS)]
    present = [f for f in UNREAD_WEIGHTS if os.path.exists(os.path.join(path, f))]
    raise NotAModuleError(f"{path} holds its weights only as {', '.join(present)}, which this tool never opens "
                          "(a pickle runs code when loaded); convert it to safetensors with transformers "
                          "(`AutoModel.from_pretrained(dir).save_pretrained(dir)` writes model.safetensors)")


def stored_entries(path: str) -> list[Entry]:
    """Every tensor the checkpoint stores, from headers checked before anything is mapped."""
    files = weight_files(path)
    records = {f: untrusted.safetensors_header(f, NotAModuleError) for f in files}
    return stored_variables.from_safetensors(files, records)


class _Ported:
    """What keras_hub's convert_weights asks of a loader (get_tensor, port_weight), served
    from the checked entries. Keys are matched with or without the family's prefix, since
    a base class saves them bare and a task class under `bert.` / `albert.`. A pooler the
    file lacks is left as the backbone drew it at random, as transformers does: the study
    then finds no pooler in the file and says so."""

    def __init__(self, entries: list[Entry], prefix: str, path: str):
        self.path = path
        self.by_key: dict[str, Entry] = {}
        for e in entries:
            key = e.name.replace("/", ".")
            bare = key.removeprefix(prefix)
            if bare in self.by_key:
                raise NotAModuleError(f"{path} stores {bare} both bare and as {key}; which one the model "
                                      "uses is unclear, so the checkpoint is refused")
            self.by_key[bare] = e
        self.prefix = prefix

    def get_tensor(self, key: str) -> np.ndarray:
        entry = self.by_key.get(key.removeprefix(self.prefix))
        if entry is None:
            raise KeyError(key)
        value = entry.read()
        return value.astype(np.float32) if value.dtype != np.float32 else value

    def port_weight(self, keras_variable: Any, hf_weight_key: str, hook_fn: Any = None) -> None:
        bare = hf_weight_key.removeprefix(self.prefix)
        if bare not in self.by_key and bare.startswith("pooler."):
            return
        if bare not in self.by_key:
            raise NotAModuleError(f"{self.path} stores no {bare} (nor under {self.prefix}); the checkpoint is "
                                  "incomplete, or of a class whose encoder keras_hub does not convert")
        value = self.get_tensor(hf_weight_key)
        if hook_fn is not None:
            value = hook_fn(value, list(keras_variable.shape))
        if tuple(value.shape) != tuple(keras_variable.shape):
            raise NotAModuleError(f"{self.path}: {bare} has shape {list(value.shape)}, and config.json makes it "
                                  f"{list(keras_variable.shape)}; the weights are not this config's")
        keras_variable.assign(value)


def _keras_hub() -> None:
    try:
        import keras_hub  # noqa: F401
    except ImportError:
        raise UsageError(f"this is a Hugging Face checkpoint, and keras-hub is not installed; run `{EXTRA}`") from None


def _converter(path: str, config: dict[str, Any]) -> Any:
    """keras_hub's own converter module for the model_type (its TransformersPresetLoader's choice)."""
    from keras_hub.src.utils.transformers.preset_loader import TransformersPresetLoader

    return TransformersPresetLoader(path, config).converter


def activation_words(act: str) -> str:
    name, approximate = FAITHFUL_ACTIVATIONS[act]
    return f"hidden_act {act} ({'tanh form' if approximate else 'exact erf form' if approximate is False else name})"


def set_activation(backbone: Any, act: str) -> None:
    """Every transformer layer's feed-forward activation, as transformers names it (act).
    Keras layers read it on every call, so setting it after the build is enough."""
    import keras

    name, approximate = FAITHFUL_ACTIVATIONS[act]
    base = getattr(keras.activations, name)
    activation = (lambda x: base(x, approximate=approximate)) if approximate is not None else base
    for layer in backbone._flatten_layers(include_self=False, recursive=True):
        if hasattr(layer, "_feedforward_intermediate_dense"):
            layer._feedforward_intermediate_dense.activation = activation


def _faithful(backbone: Any, config: dict[str, Any], path: str, act: str | None) -> list[str]:
    """Sets what keras_hub fixes to what config.json says (act: another hidden_act instead);
    returns what was set, in config.json's terms."""
    import keras

    act = act or config.get("hidden_act", "gelu")
    if act not in FAITHFUL_ACTIVATIONS:
        raise InterfaceError(f"{path}: config.json's hidden_act is {act!r}, which the tool cannot run as "
                             f"transformers does; it runs {', '.join(FAITHFUL_ACTIVATIONS)}")
    set_activation(backbone, act)
    eps = config.get("layer_norm_eps", KERAS_HUB_LAYER_NORM_EPS)
    if isinstance(eps, float):
        for layer in backbone._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, keras.layers.LayerNormalization):
                layer.epsilon = eps
    changed = [activation_words(act)]
    if isinstance(eps, float) and eps != KERAS_HUB_LAYER_NORM_EPS:
        changed.append(f"layer_norm_eps {eps:g}")
    return changed


def load(handle: str, path: str, hidden_act: str | None = None) -> LoadedModule:
    """hidden_act: run this activation instead of config.json's (compare tries the other GELU
    form, to tell whether it explains a difference)."""
    config = read_config(path)
    model_type = config["model_type"]
    entries = stored_entries(path)
    if model_type in NO_POOLED:
        pooler = [e.name.replace("/", ".") for e in entries if "pooler" in e.name.split("/")]
        raise NoPooledOutputError(
            f"{handle}: keras_hub's {NO_POOLED[model_type]} returns no pooled_output, so there is no pooler to "
            f"rebuild (the file stores {', '.join(pooler) if pooler else 'no pooler weights'}); its [CLS] "
            "vector is sequence_output[:, 0, :]")
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise InterfaceError(f"{path}: config.json's position_embedding_type is "
                             f"{config['position_embedding_type']!r}; keras_hub runs absolute positions only")
    _keras_hub()                    # installed, or one line saying how
    converter = _converter(path, config)
    settings = converter.convert_backbone_config(config) | {"num_segments": config.get("type_vocab_size", 2)}
    try:
        backbone = converter.backbone_cls(**settings)
    except (ValueError, TypeError) as e:
        raise NotAModuleError(f"{path}: keras_hub builds no {converter.backbone_cls.__name__} from config.json "
                              f"({first_line(e)})") from None
    ported = _Ported(entries, FAMILIES[model_type], path)
    converter.convert_weights(backbone, ported, config)
    changed = _faithful(backbone, config, path, hidden_act)
    kind = type(backbone).__name__

    call = tf.function(lambda ids, mask, types: backbone(
        {"token_ids": ids, "segment_ids": types, "padding_mask": mask}, training=False),
        input_signature=[tf.TensorSpec([None, None], tf.int32)] * 3)

    def run(input_ids: np.ndarray, input_mask: np.ndarray, segment_ids: np.ndarray) -> dict:
        out = call(*(tf.constant(a, tf.int32) for a in (input_ids, input_mask, segment_ids)))
        return {k: out[k].numpy() for k in ("pooled_output", "sequence_output")}

    vocab_file, source, lower_case = tokenizer_files(path)
    facts = ModuleFacts(handle=handle, path=path, format=HF_CHECKPOINT,
                        signature=f"keras_hub {kind} (token_ids, segment_ids, padding_mask), ported from the "
                                  f"safetensors by keras_hub's converter; run "
                                  f"{'as config.json says' if hidden_act is None else 'for comparison with'}: "
                                  f"{', '.join(changed)}",
                        vocab_file=vocab_file, vocab_source=source, do_lower_case=lower_case,
                        max_seq_length=int(config["max_position_embeddings"]),
                        num_layers=int(config["num_hidden_layers"]),
                        weights_dtype=least_precise(e.dtype for e in entries))
    return LoadedModule(facts=facts, run=run, obj=backbone, variables=list(backbone.weights),
                        vocab_rows=int(config["vocab_size"]),
                        stored=stored_variables.Stored(stored_variables.SAFETENSORS_SOURCE, entries))


def tokenizer_files(path: str) -> tuple[str | None, VocabSource, bool]:
    """The vocab as the repository ships it, and its casing: vocab.txt or spiece.model with
    tokenizer_config.json, or tokenizer.json alone (its WordPiece vocab and its normalizer)."""
    place = VocabSource("checkpoint-directory")
    for name in (HF_VOCAB, SENTENCEPIECE, TOKENIZER_JSON):
        file = untrusted.inside(path, name, f"the tokenizer's {name}", InterfaceError)
        if not os.path.isfile(file.path):
            continue
        found = dataclasses.replace(place, link_to=file.leads_to)
        config = _tokenizer_config(path)
        if config is not None and name != TOKENIZER_JSON:
            return file.path, dataclasses.replace(found, casing_from="tokenizer-config"), _casing(path, config)
        normalizer = _normalizer(path) if os.path.isfile(os.path.join(path, TOKENIZER_JSON)) else None
        if normalizer is not None:
            return file.path, dataclasses.replace(found, casing_from="tokenizer-json"), _casing(path, normalizer)
        raise InterfaceError(f"{path} has {name} and no {HF_TOKENIZER_CONFIG} or {TOKENIZER_JSON} that says its "
                             "casing; pass --lower-case or --no-lower-case")
    return None, VocabSource("none"), False


def _tokenizer_config(path: str) -> dict[str, Any] | None:
    file = untrusted.inside(path, HF_TOKENIZER_CONFIG, "the tokenizer config", InterfaceError)
    if not os.path.isfile(file.path):
        return None
    config = untrusted.read_json(file.path, HF_TOKENIZER_CONFIG, InterfaceError)
    if not isinstance(config, dict) or not isinstance(config.get("do_lower_case"), bool):
        return None
    return {"lowercase": config["do_lower_case"], "strip_accents": config.get("strip_accents")}


def _normalizer(path: str) -> dict[str, Any] | None:
    """tokenizer.json's BertNormalizer: lowercase and strip_accents."""
    doc = untrusted.read_json(os.path.join(path, TOKENIZER_JSON), TOKENIZER_JSON, InterfaceError, limit=64 << 20)
    normalizer = doc.get("normalizer") if isinstance(doc, dict) else None
    if not isinstance(normalizer, dict) or normalizer.get("type") != "BertNormalizer" \
            or not isinstance(normalizer.get("lowercase"), bool):
        return None
    return {"lowercase": normalizer["lowercase"], "strip_accents": normalizer.get("strip_accents")}


def _casing(path: str, settings: dict[str, Any]) -> bool:
    """tensorflow_text's BertTokenizer strips accents exactly when it lower-cases, as
    transformers does when strip_accents is unset; an explicit other choice is refused."""
    lower, strip = settings["lowercase"], settings["strip_accents"]
    if strip is not None and strip != lower:
        raise InterfaceError(f"{path}: its tokenizer lower-cases {'' if lower else 'not '}and strips accents "
                             f"{'' if strip else 'not '}(strip_accents {strip}); tensorflow_text's BertTokenizer "
                             "does both or neither, so it cannot tokenize as this model was trained")
    return lower
