"""Local module directory -> a loaded module with a uniform BERT interface.

A LoadedModule is what every format's loader returns (this one for SavedModels;
keras_hub_loading, hf_checkpoint and litert for the others): its facts (ModuleFacts,
what every document says of it), one call
`run(input_ids, input_mask, segment_ids) -> {"pooled_output", "sequence_output"}`,
and `pooler()`, its stored pooler weights and where they were found.

Loading a SavedModel is tensorflow_hub's `hub.load` (which runs a TF1 module's inference
graph variant, tags set()); this module detects which BERT interface the loaded
object offers (formats.py), adapts it to `run`, and finds the vocab where the exporter
recorded it (saved_model_proto.py).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_hub as hub

from tfhub_pooling import untrusted
from tfhub_pooling.errors import (
    InterfaceError,
    NoPooledOutputError,
    NotAModuleError,
    first_line,
)
from tfhub_pooling.formats import HF_TF, PREPROCESS, TF1_HUB, TF2_DICT, TF2_LIST
from tfhub_pooling.study import interface, saved_model_proto, stored_pooler, stored_variables
from tfhub_pooling.study.lengths import Lengths

TOKENS_INPUTS = ("input_ids", "input_mask", "segment_ids")
TF2_INPUTS = ("input_word_ids", "input_mask", "input_type_ids")
OUTPUTS = ("pooled_output", "sequence_output")
# Hugging Face TF's serving signature (TFBertModel.serving) and what each output is here.
HF_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
HF_OUTPUTS = {"pooler_output": "pooled_output", "last_hidden_state": "sequence_output"}
# A serving signature names its outputs Hugging Face's way, or TF Hub's (a TFBertModel
# wrapped to serve like a hub module): either is the same two outputs.
OUTPUT_NAMINGS = (HF_OUTPUTS, {name: name for name in OUTPUTS})
HF_SIGNATURE = "serving_default"
# What save_pretrained writes beside saved_model/: the tokenizer's vocab and casing.
HF_VOCAB, HF_TOKENIZER_CONFIG = "vocab.txt", "tokenizer_config.json"

# Used when a module's position-embedding table cannot be found by name.
FALLBACK_MAX_SEQ_LENGTH = 512

RunFn = Callable[[np.ndarray, np.ndarray, np.ndarray], dict[str, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class VocabSource:
    """Where the vocab and its casing came from, as data (reports/render.py says it in words)."""

    place: str                     # one of PLACES
    link_to: str | None = None     # where a link at that place leads, outside it
    casing_from: str = "module"    # "module", "tokenizer-config" (the one beside the vocab), "tokenizer-json"
                                   # (its normalizer), or "option"


PLACES = ("module-assets", "beside-saved-model", "in-graph", "none", "named-file", "checkpoint-directory")
VOCAB_IN_MODULE = VocabSource("module-assets")
VOCAB_BESIDE = VocabSource("beside-saved-model")      # what save_pretrained wrote around saved_model/
# Model Garden's ALBERT preprocessing model holds its SentencePiece model as a constant of its graph.
VOCAB_IN_GRAPH = VocabSource("in-graph")
NO_VOCAB = VocabSource("none")
NAMED_VOCAB = VocabSource("named-file")               # --vocab, vocab=


NOT_A_SAVED_MODEL = "none: not a SavedModel"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModuleFacts:
    """What a loaded module is, as every document says it, under the same names: the one
    record of it; the loaded module holds it beside what runs."""

    handle: str
    path: str                   # the local directory (or file) the handle resolved to
    format: str                 # formats.ENCODERS
    signature: str              # what `run` calls
    vocab_file: str | None      # None: the module carries none (a preprocessing model must make inputs)
    vocab_source: VocabSource   # VOCAB_IN_MODULE (and where a link in assets/ leads), NO_VOCAB, ...
    do_lower_case: bool
    max_seq_length: int | None  # the module's own maximum: rows of its position embeddings (None: a
                                # preprocessing model)
    num_layers: int | None      # transformer layers, counted off the stored names
    graph_variant: str = NOT_A_SAVED_MODEL   # the tag set run, e.g. "set()" (inference)
    graph_variants: list[str] = dataclasses.field(default_factory=list)   # every tag set saved_model.pb holds
    static_length: int | None = None   # the length its signature fixes (FNet, SparseMixer), or None: any
    weights_dtype: str = "float32"     # WEIGHT_DTYPES: a conversion's int8 or float16, a checkpoint's bfloat16


@dataclasses.dataclass(kw_only=True)
class LoadedModule:
    """A loaded encoder, whatever its format: its facts, the one call that runs it, and
    what the study reads its inputs and pooler from."""

    facts: ModuleFacts
    run: RunFn
    obj: Any                    # what the loader loaded (hub.load's object, a keras_hub backbone, LiteRT's model)
    variables: list = dataclasses.field(default_factory=list)   # tf.Variables, with their names as loaded
    tokenizer: Any = None       # the module's own tokenizer, where it carries one (KerasHub presets)
    vocab_rows: int | None = None   # rows of the word-embedding table: no vocab may be longer
    encoder_outputs: int | None = None  # entries `encoder_outputs` should hold (MobileBERT: layers + 1)
    stored: stored_variables.Stored | None = None   # what the module stores outside TF's variables (a
                                                    # checkpoint's safetensors, a LiteRT graph): its pooler is read there
    lengths: Lengths = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        assert self.facts.max_seq_length is not None, "an encoder has a maximum length"
        self.lengths = Lengths(self.facts.static_length, self.facts.max_seq_length)

    def pooler(self) -> tuple[stored_pooler.PoolerWeights | None, str | None]:
        """The stored pooler and where it was found, or None and what was searched. Found
        once, before any batch runs; each batch's outputs are then held to its width
        (stored_pooler.check_width)."""
        try:
            if self.stored is not None:
                return stored_pooler.find_in_file(self.stored), None
            return stored_pooler.find_module_pooler(self.variables, self.facts.path), None
        except stored_pooler.PoolerNotFound as e:
            if self.stored is not None and self.stored.source == stored_variables.SAFETENSORS_SOURCE:
                return None, (f"{e}. transformers draws such a pooler at random on every load (\"newly "
                              "initialized: pooler.dense\"), so its pooler_output is no property of the model; "
                              "the pooled_output here is keras_hub's own random draw")
            return None, str(e)


# From most to least precise: what a module's dense weights may be stored as.
WEIGHT_DTYPES = ("float32", "float16", "bfloat16", "int8")


def least_precise(dtypes: Any) -> str:
    """The least precise of the WEIGHT_DTYPES among dtypes (others, such as int32, are not weights)."""
    found = [WEIGHT_DTYPES.index(d) for d in dtypes if d in WEIGHT_DTYPES]
    return WEIGHT_DTYPES[max(found, default=0)]


def graph_variants(proto: Any) -> dict[str, Any]:
    """The facts of a SavedModel's graph variants: the one run (inference) and every one it holds."""
    return {"graph_variant": saved_model_proto.describe_tags(saved_model_proto.INFERENCE_TAGS),
            "graph_variants": [saved_model_proto.describe_tags(t) for t in saved_model_proto.graph_variants(proto)]}


def load_saved_model(path: str) -> Any:
    """hub.load, with its failures turned into one line."""
    proto = saved_model_proto.proto_file(path)
    if proto is None:
        raise NotAModuleError(f"{path} is none of: TF1 Hub module, TF2 SavedModel, google-research "
                              "checkpoint directory (no saved_model.pb, no bert_config.json); "
                              "point --handle at the module's top directory")
    untrusted.check_size(proto, untrusted.MAX_PROTO_BYTES, "the SavedModel graph", NotAModuleError)
    if not os.path.isfile(os.path.join(path, "variables", "variables.index")):
        raise NotAModuleError(f"{path} has no variables/variables.index; the module's "
                              "weights are missing, fetch or unpack it again")
    try:
        return hub.load(path)
    except (tf.errors.OpError, ValueError, OSError, RuntimeError, IndexError) as e:
        damaged = _damaged_variables(path)
        if damaged:
            raise NotAModuleError(f"{path}: its weights in variables/ are damaged ({damaged}); fetch "
                                  "or unpack the module again") from None
        raise NotAModuleError(f"{path} could not be loaded as a SavedModel ({first_line(e)}); "
                              "is it complete and uncorrupted?") from None


def _damaged_variables(path: str) -> str | None:
    """Why the variables checkpoint cannot be read in full, or None if it can."""
    try:
        reader = tf.train.load_checkpoint(stored_variables.checkpoint_prefix(path))
        for key in reader.get_variable_to_shape_map():
            reader.get_tensor(key)
    except (tf.errors.OpError, ValueError, IndexError) as e:   # IndexError: a truncated data file
        return first_line(e)
    return None


def detect_format(path: str, obj: Any) -> str:
    if os.path.exists(os.path.join(path, "tfhub_module.pb")):
        return TF1_HUB
    if hasattr(obj, "tokenize") and hasattr(obj, "bert_pack_inputs"):
        return PREPROCESS
    signature = getattr(obj, "signatures", {}).get(HF_SIGNATURE)
    if signature is not None and set(HF_INPUTS) <= set(signature.structured_input_signature[1]):
        return HF_TF
    found = _tf2_call(obj)
    if found is not None:
        return found[0]
    raise InterfaceError(f"{path} is a SavedModel but no BERT encoder: it has no `tokens` signature "
                         "(TF1 Hub) and is not callable on a dict of input_word_ids, input_mask, "
                         "input_type_ids or a list of three id tensors (TF2)")


def _tf2_call(obj: Any) -> tuple[str, Any] | None:
    """The TF2 format and the concrete function of __call__ the study will call, if any."""
    # The restored tf.function itself (its concrete functions), not a test of callability.
    for concrete in getattr(getattr(obj, "__call__", None), "concrete_functions", ()):  # noqa: B004
        args = concrete.structured_input_signature[0]
        first = args[0] if args else None
        if isinstance(first, dict) and set(TF2_INPUTS) <= set(first):
            return TF2_DICT, concrete
        if isinstance(first, (list, tuple)) and len(first) == 3:
            return TF2_LIST, concrete
    return None


def _dtype(x: Any) -> tf.DType | None:
    return getattr(x, "dtype", None)


def _kinds(structure: Any) -> str:
    """What a signature returns, for an error line: `a dict of a (string), b (float32)`."""
    if isinstance(structure, dict):
        return "a dict of " + ", ".join(f"{k} ({getattr(_dtype(v), 'name', type(v).__name__)})"
                                        for k, v in sorted(structure.items()))
    if isinstance(structure, (list, tuple)):
        return f"a list of {len(structure)}"
    return f"one {getattr(_dtype(structure), 'name', type(structure).__name__)} tensor"


def _check_inputs(path: str, where: str, specs: dict[str, Any] | list) -> None:
    items = specs.items() if isinstance(specs, dict) else enumerate(specs)
    wrong = [f"{k} ({_dtype(v).name})" for k, v in items if _dtype(v) is not None and not _dtype(v).is_integer]
    if wrong:
        raise InterfaceError(f"{path}: {where} takes {', '.join(map(str, wrong))}, where a BERT encoder takes "
                             "integer token ids; it is no BERT encoder")


def _check_outputs(path: str, where: str, outputs: Any, names: tuple[str, ...] | None) -> None:
    """names: the dict keys it must return; None for a list of [pooled, sequence]."""
    if names is None:
        values = list(outputs) if isinstance(outputs, (list, tuple)) and len(outputs) == 2 else None
    else:
        values = [outputs.get(k) for k in names] if isinstance(outputs, dict) else None
        if values is not None and any(v is None for v in values):
            missing = [k for k, v in zip(names, values, strict=False) if v is None]
            raise InterfaceError(f"{path}: {where} returns no {', '.join(missing)} (it returns "
                                 f"{_kinds(outputs)}); it is no BERT encoder")
    wanted = "a list of [pooled_output, sequence_output]" if names is None else f"a dict with {', '.join(names)}"
    if values is None or any(_dtype(v) is None or not _dtype(v).is_floating for v in values):
        raise InterfaceError(f"{path}: {where} returns {_kinds(outputs)}, where a BERT encoder returns "
                             f"{wanted} of floating-point tensors; it is no BERT encoder")


def load(handle: str, path: str, obj: Any = None, beside: str | None = None) -> LoadedModule:
    """Loads the encoder at local `path` (resolved from `handle`) with hub.load.

    obj: what hub.load already returned for path, so it is not loaded twice.
    beside: the directory save_pretrained wrote around a Hugging Face SavedModel at
      path, where its vocab and casing are; None where the handle named the SavedModel.
    """
    obj = obj if obj is not None else load_saved_model(path)
    fmt = detect_format(path, obj)
    if fmt == PREPROCESS:
        raise InterfaceError(f"{path} is a BERT preprocessing model, not an encoder; pass it with "
                             "--preprocess and the encoder with --handle")
    if fmt == HF_TF:
        return _hf_tf(handle, path, obj, beside)
    return {TF1_HUB: _tf1_hub, TF2_DICT: _tf2, TF2_LIST: _tf2}[fmt](handle, path, obj, fmt)


def _hf_tf(handle: str, path: str, obj: Any, beside: str | None) -> LoadedModule:
    """A Hugging Face TF SavedModel: its serving signature, and the vocab save_pretrained
    wrote beside saved_model/ (its own assets/ are empty)."""
    signature = obj.signatures[HF_SIGNATURE]
    where = f"its `{HF_SIGNATURE}` signature"
    _check_inputs(path, where, signature.structured_input_signature[1])
    outputs = signature.structured_outputs
    naming = next((n for n in OUTPUT_NAMINGS if isinstance(outputs, dict) and n.keys() <= outputs.keys()), None)
    if naming is None:
        raise NoPooledOutputError(f"{handle}: {where} returns {_kinds(outputs)} and neither pooler_output nor "
                                  "pooled_output with its sequence (a model with a task head, such as "
                                  "TFBertForSequenceClassification, returns only its logits), so there is no "
                                  "pooled_output to rebuild; save the base model (TFBertModel) to check its pooler")
    _check_outputs(path, where, outputs, tuple(naming))

    def run(input_ids: np.ndarray, input_mask: np.ndarray, segment_ids: np.ndarray) -> dict:
        out = signature(input_ids=tf.constant(input_ids, tf.int32), attention_mask=tf.constant(input_mask, tf.int32),
                        token_type_ids=tf.constant(segment_ids, tf.int32))
        return {ours: out[theirs].numpy() for theirs, ours in naming.items()}

    vocab_file, vocab_source, do_lower_case = None, NO_VOCAB, False
    if beside is not None:
        vocab_file, vocab_source, do_lower_case = hf_vocab(beside)
    returns = ", ".join(naming)
    return _loaded(handle, path, HF_TF, f"{HF_SIGNATURE} (input_ids, attention_mask, token_type_ids -> {returns})",
                   obj, run, vocab_file, vocab_source, do_lower_case, saved_model_proto.read(path),
                   _static_length(signature.structured_input_signature[1]))


def hf_vocab(directory: str) -> tuple[str, VocabSource, bool]:
    """The vocab.txt and do_lower_case save_pretrained wrote into directory."""
    vocab = untrusted.inside(directory, HF_VOCAB, "the tokenizer's vocab.txt", InterfaceError)
    if not os.path.isfile(vocab.path):
        raise InterfaceError(f"{directory} holds a Hugging Face SavedModel and no {HF_VOCAB} beside it; save the "
                             f"tokenizer there too (tokenizer.save_pretrained), or pass --vocab")
    return (vocab.path, dataclasses.replace(VOCAB_BESIDE, link_to=vocab.leads_to, casing_from="tokenizer-config"),
            tokenizer_casing(directory))


def tokenizer_casing(directory: str) -> bool:
    """do_lower_case from the tokenizer_config.json in directory."""
    config_file = untrusted.inside(directory, HF_TOKENIZER_CONFIG, "the tokenizer config", InterfaceError)
    config = (untrusted.read_json(config_file.path, HF_TOKENIZER_CONFIG, InterfaceError)
              if os.path.isfile(config_file.path) else None)
    if not isinstance(config, dict) or not isinstance(config.get("do_lower_case"), bool):
        raise InterfaceError(f"{directory} has no {HF_TOKENIZER_CONFIG} that says do_lower_case, so the vocab's "
                             "casing is unknown; pass --lower-case or --no-lower-case")
    return config["do_lower_case"]


def _tf1_hub(handle: str, path: str, obj: Any, fmt: str) -> LoadedModule:
    if "tokens" not in obj.signatures:
        raise InterfaceError(f"{path} has no `tokens` signature (it has: "
                             f"{', '.join(sorted(obj.signatures)) or 'none'}); it is no BERT module")
    tokens = obj.signatures["tokens"]
    missing_in = sorted(set(TOKENS_INPUTS) - set(tokens.structured_input_signature[1]))
    missing_out = sorted(set(OUTPUTS) - set(tokens.structured_outputs))
    if missing_in or missing_out:
        raise InterfaceError(f"{path}: the `tokens` signature lacks "
                             f"{', '.join(missing_in + missing_out)}; it is no BERT module")
    _check_inputs(path, "the `tokens` signature", tokens.structured_input_signature[1])
    _check_outputs(path, "the `tokens` signature", tokens.structured_outputs, OUTPUTS)
    if "tokenization_info" not in obj.signatures:
        raise InterfaceError(f"{path} has no `tokenization_info` signature, so its vocab is "
                             "unknown; it is no BERT module of the TF1 Hub kind")
    info = _tokenization_info(path, obj.signatures["tokenization_info"])

    def run(input_ids: np.ndarray, input_mask: np.ndarray, segment_ids: np.ndarray) -> dict:
        out = tokens(input_ids=tf.constant(input_ids, tf.int32),
                     input_mask=tf.constant(input_mask, tf.int32),
                     segment_ids=tf.constant(segment_ids, tf.int32))
        return {k: out[k].numpy() for k in OUTPUTS}

    proto = saved_model_proto.read(path)
    graph = saved_model_proto.meta_graph(proto, saved_model_proto.INFERENCE_TAGS)
    vocab_file, vocab_source = _tf1_vocab_file(path, graph, info[0])
    return _loaded(handle, path, fmt, "tokens", obj, run, vocab_file, vocab_source, info[1], proto,
                   _static_length(tokens.structured_input_signature[1]))


def _tokenization_info(path: str, signature: Any) -> tuple[str, bool]:
    """The vocab_file value and do_lower_case of a TF1 module's `tokenization_info`."""
    wanted = {"vocab_file": tf.string, "do_lower_case": tf.bool}
    outputs = signature.structured_outputs
    wrong = [f"{k} ({getattr(_dtype(outputs.get(k)), 'name', 'missing')})" for k, dtype in wanted.items()
             if _dtype(outputs.get(k)) != dtype]
    if wrong:
        raise InterfaceError(f"{path}: its `tokenization_info` signature gives {', '.join(wrong)}, where a "
                             "TF1 Hub BERT gives vocab_file (string) and do_lower_case (bool); so its vocab "
                             "and casing are unknown")
    info = signature()
    return info["vocab_file"].numpy().decode("utf-8", "replace"), bool(info["do_lower_case"].numpy())


def _tf2(handle: str, path: str, obj: Any, fmt: str) -> LoadedModule:
    _, concrete = _tf2_call(obj)
    first = concrete.structured_input_signature[0][0]
    _check_inputs(path, "its __call__", first)
    _check_outputs(path, "its __call__", concrete.structured_outputs, OUTPUTS if fmt == TF2_DICT else None)

    def run(input_ids: np.ndarray, input_mask: np.ndarray, segment_ids: np.ndarray) -> dict:
        ids, mask, types = (tf.constant(a, tf.int32) for a in (input_ids, input_mask, segment_ids))
        if fmt == TF2_DICT:
            out = obj({"input_word_ids": ids, "input_mask": mask, "input_type_ids": types})
            missing = [k for k in OUTPUTS if k not in out]
            if missing:
                raise InterfaceError(f"{path} returned no {', '.join(missing)}; it is no BERT encoder")
            return {k: out[k].numpy() for k in OUTPUTS} | {"checks": interface.measure(out)}
        pooled, sequence = obj([ids, mask, types])
        return {"pooled_output": pooled.numpy(), "sequence_output": sequence.numpy()}

    vocab_file, vocab_source, do_lower_case = None, NO_VOCAB, False
    if hasattr(obj, "vocab_file") and hasattr(obj, "do_lower_case"):
        vocab_file, vocab_source = asset_file(path, obj.vocab_file)
        if _dtype(obj.do_lower_case) != tf.bool:
            raise InterfaceError(f"{path}: its do_lower_case is {_kinds(obj.do_lower_case)}, not a bool; "
                                 "so its casing is unknown")
        do_lower_case = bool(obj.do_lower_case.numpy())
    elif hasattr(obj, "sp_model_file"):
        # Model Garden's ALBERT encoders: lower case (and no accents) implied, as export_tfhub_lib says.
        (vocab_file, vocab_source), do_lower_case = asset_file(path, obj.sp_model_file), True
    return _loaded(handle, path, fmt, "__call__ (dict)" if fmt == TF2_DICT else "__call__ (list)",
                   obj, run, vocab_file, vocab_source, do_lower_case, saved_model_proto.read(path),
                   _static_length(first))


def asset_file(path: str, asset: Any) -> tuple[str, VocabSource]:
    """The file of a TF2 object's Asset and where it came from. TF2 restores the
    recorded file name joined onto the module's assets/; a name that climbs out is
    refused before anything reads it."""
    assets = os.path.join(path, "assets")
    if _dtype(getattr(asset, "asset_path", None)) != tf.string:
        raise InterfaceError(f"{path}: its vocab is {_kinds(asset)}, not a file Asset; so its vocab is unknown")
    restored = asset.asset_path.numpy().decode("utf-8", "replace")
    recorded = restored.removeprefix(assets + os.sep)     # the file name the module records
    file = untrusted.inside(assets, recorded, "the vocab file (the object's Asset)", InterfaceError)
    if not os.path.isfile(file.path):
        raise InterfaceError(f"{path}: the vocab file {recorded} is missing "
                             "from assets/; the module is incomplete, fetch or unpack it again")
    return file.path, vocab_place(file)


def preprocess_vocab(path: str, obj: Any) -> tuple[str | None, VocabSource]:
    """The vocab a preprocessing model carries, if any: its vocab_file or sp_model_file
    (our writer's), else the one asset its saved_model.pb records (Model Garden's keeps
    the vocab inside its tokenize layer, out of reach of attributes)."""
    asset = getattr(obj, "vocab_file", None) or getattr(obj, "sp_model_file", None)
    if asset is not None:
        return asset_file(path, asset)
    proto = saved_model_proto.read(path)
    recorded = {name for graph in proto.meta_graphs for name in saved_model_proto.asset_records(graph).values()}
    if not recorded:
        return None, VOCAB_IN_GRAPH
    if len(recorded) != 1:
        return None, NO_VOCAB
    file = untrusted.inside(os.path.join(path, "assets"), recorded.pop(), "the recorded vocab asset",
                            InterfaceError)
    return (file.path, vocab_place(file)) if os.path.isfile(file.path) else (None, NO_VOCAB)


def preprocessing_facts(handle: str, path: str, obj: Any) -> ModuleFacts:
    """A preprocessing model's facts, under the names an encoder's have."""
    vocab_file, place = preprocess_vocab(path, obj)
    variants = graph_variants(saved_model_proto.read(path))
    return ModuleFacts(handle=handle, path=path, format=PREPROCESS, signature="__call__, tokenize, bert_pack_inputs",
                       vocab_file=vocab_file, vocab_source=place, do_lower_case=lower_cases(obj),
                       max_seq_length=None, num_layers=None,
                       **variants | {"graph_variant": variants["graph_variants"][0]})   # the one it holds


def lower_cases(obj: Any) -> bool:
    """Whether a preprocessing model lower-cases: its do_lower_case, or, where it keeps
    none, whether its own tokenize gives "ABC" the pieces of "abc"."""
    if hasattr(obj, "do_lower_case"):
        return bool(obj.do_lower_case.numpy())
    pieces = obj.tokenize(tf.constant(["ABC", "abc"]))     # ragged [2, (words), (pieces)] or [2, (pieces)]
    rows = pieces.to_list() if isinstance(pieces, tf.RaggedTensor) else pieces.numpy().tolist()
    return rows[0] == rows[1]


def vocab_place(file: untrusted.ModuleFile) -> VocabSource:
    """Where a vocab inside the module really is: a link that leads out is said."""
    return dataclasses.replace(VOCAB_IN_MODULE, link_to=file.leads_to)


def _loaded(handle: str, path: str, fmt: str, signature: str, obj: Any, run: RunFn,
            vocab_file: str | None, vocab_source: VocabSource, do_lower_case: bool, proto,
            static_length: int | None = None) -> LoadedModule:
    variables = list(getattr(obj, "variables", []))
    entries = stored_variables.from_variables(variables)
    if stored_variables.max_seq_length(entries) is None:
        # The variables lost their names (the checkpoint keeps them), or the encoder has no
        # position table (RoFormer's are rotary): take whichever names say more.
        stored = stored_variables.from_checkpoint(path)
        if stored_variables.max_seq_length(stored) is not None or stored_variables.num_layers(entries) is None:
            entries = stored
    max_seq_length = stored_variables.max_seq_length(entries) or FALLBACK_MAX_SEQ_LENGTH
    if static_length is not None:       # a fixed signature takes no longer text
        max_seq_length = min(max_seq_length, static_length)
    facts = ModuleFacts(handle=handle, path=path, format=fmt, signature=signature, vocab_file=vocab_file,
                        vocab_source=vocab_source, do_lower_case=do_lower_case, max_seq_length=max_seq_length,
                        num_layers=stored_variables.num_layers(entries), static_length=static_length,
                        **graph_variants(proto))
    return LoadedModule(facts=facts, run=run, obj=obj, variables=variables,
                        vocab_rows=stored_variables.vocab_rows(entries),
                        encoder_outputs=stored_variables.encoder_outputs(entries))


def _static_length(specs: dict[str, Any] | list) -> int | None:
    """The sequence length a signature fixes ([None, 128] -> 128), or None where it takes any."""
    values = specs.values() if isinstance(specs, dict) else specs
    lengths = {s.shape[1] for s in values if getattr(s, "shape", None) is not None
               and s.shape.rank == 2 and s.shape[1] is not None}
    return lengths.pop() if len(lengths) == 1 else None


def _tf1_vocab_file(path: str, graph, signature_value: str) -> tuple[str, VocabSource]:
    """The vocab of a TF1 module: the file the exporter recorded for the
    `tokenization_info` output, under the module's own assets/. A path baked in on
    the exporting machine is never read: it lies outside what the user named."""
    assets = os.path.join(path, "assets")
    tensor = graph and saved_model_proto.signature_output_tensor(graph, "tokenization_info", "vocab_file")
    recorded = graph and tensor and saved_model_proto.asset_records(graph).get(tensor)
    if recorded:
        file = untrusted.inside(assets, recorded, f"the vocab file (the asset recorded for {tensor})",
                                InterfaceError)
        if not os.path.isfile(file.path):
            raise InterfaceError(f"{path}: the vocab file {recorded} (recorded for {tensor}) is missing "
                                 "from assets/; the module is incomplete, fetch or unpack it again")
        return file.path, vocab_place(file)
    name = os.path.basename(signature_value)
    if name not in ("", ".", ".."):
        own = untrusted.inside(assets, name, "the vocab file", InterfaceError)
        if os.path.isfile(own.path):
            return own.path, vocab_place(own)
    raise InterfaceError(f"{path}: the module carries no vocab: saved_model.pb records no asset for "
                         f"{tensor or 'vocab_file'}, assets/ has no {name or 'vocab file'}, and the signature "
                         f"names {signature_value!r}, which the tool does not read (it reads nothing outside "
                         "the module); put the module's vocab in its assets/ and record it there")
