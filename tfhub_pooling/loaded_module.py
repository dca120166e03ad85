"""Local module directory -> a loaded module with a uniform BERT interface.

Loading is tensorflow_hub's `hub.load`; this module only detects which BERT
interface the loaded object offers (formats.py) and adapts it to one call:
`run(input_ids, input_mask, segment_ids) -> {"pooled_output", "sequence_output"}`.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable

import numpy as np
import tensorflow as tf
import tensorflow_hub as hub

from tfhub_pooling import stored_weights
from tfhub_pooling.errors import InterfaceError, NotAModuleError
from tfhub_pooling.formats import PREPROCESS, TF1_HUB, TF2_DICT, TF2_LIST

TOKENS_INPUTS = ("input_ids", "input_mask", "segment_ids")
TF2_INPUTS = ("input_word_ids", "input_mask", "input_type_ids")
OUTPUTS = ("pooled_output", "sequence_output")

# Used when a module's position-embedding table cannot be found by name.
FALLBACK_MAX_SEQ_LENGTH = 512

RunFn = Callable[[np.ndarray, np.ndarray, np.ndarray], dict[str, np.ndarray]]


@dataclasses.dataclass
class LoadedModule:
    handle: str
    path: str                   # the local directory tensorflow_hub resolved
    format: str                 # formats.ENCODERS
    signature: str              # what `run` calls
    obj: Any                    # what hub.load returned
    variables: list             # tf.Variables, with their names as loaded
    run: RunFn
    vocab_file: str
    do_lower_case: bool
    max_seq_length: int


def load_saved_model(path: str) -> Any:
    """hub.load, with its failures turned into one line."""
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise NotAModuleError(f"{path} is none of: TF1 Hub module, TF2 SavedModel, google-research "
                              "checkpoint directory (no saved_model.pb, no bert_config.json); "
                              "point --handle at the module's top directory")
    if not os.path.isfile(os.path.join(path, "variables", "variables.index")):
        raise NotAModuleError(f"{path} has no variables/variables.index; the module's "
                              "weights are missing, fetch or unpack it again")
    try:
        return hub.load(path)
    except (tf.errors.OpError, ValueError, OSError, RuntimeError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise NotAModuleError(f"{path} could not be loaded as a SavedModel ({first_line}); "
                              "is it complete and uncorrupted?") from e


def detect_format(path: str, obj: Any) -> str:
    if os.path.exists(os.path.join(path, "tfhub_module.pb")):
        return TF1_HUB
    if hasattr(obj, "tokenize") and hasattr(obj, "bert_pack_inputs"):
        return PREPROCESS
    for concrete in getattr(getattr(obj, "__call__", None), "concrete_functions", ()):
        args = concrete.structured_input_signature[0]
        first = args[0] if args else None
        if isinstance(first, dict) and set(TF2_INPUTS) <= set(first):
            return TF2_DICT
        if isinstance(first, (list, tuple)) and len(first) == 3:
            return TF2_LIST
    raise InterfaceError(f"{path} is a SavedModel but no BERT encoder: it has no `tokens` signature "
                         "(TF1 Hub) and is not callable on a dict of input_word_ids, input_mask, "
                         "input_type_ids or a list of three id tensors (TF2)")


def load(handle: str, path: str) -> LoadedModule:
    """Loads the encoder at local `path` (resolved from `handle`) with hub.load."""
    obj = load_saved_model(path)
    fmt = detect_format(path, obj)
    if fmt == PREPROCESS:
        raise InterfaceError(f"{path} is a BERT preprocessing model, not an encoder; pass it with "
                             "--preprocess and the encoder with --handle")
    return {TF1_HUB: _tf1_hub, TF2_DICT: _tf2, TF2_LIST: _tf2}[fmt](handle, path, obj, fmt)


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
    if "tokenization_info" not in obj.signatures:
        raise InterfaceError(f"{path} has no `tokenization_info` signature, so its vocab is "
                             "unknown; it is no BERT module of the TF1 Hub kind")
    info = obj.signatures["tokenization_info"]()

    def run(input_ids: np.ndarray, input_mask: np.ndarray, segment_ids: np.ndarray) -> dict:
        out = tokens(input_ids=tf.constant(input_ids, tf.int32),
                     input_mask=tf.constant(input_mask, tf.int32),
                     segment_ids=tf.constant(segment_ids, tf.int32))
        return {k: out[k].numpy() for k in OUTPUTS}

    variables = list(obj.variables)
    return LoadedModule(handle, path, fmt, "tokens", obj, variables, run,
                        _vocab_file(path, info["vocab_file"].numpy().decode()),
                        bool(info["do_lower_case"].numpy()), _max_seq_length(path, variables))


def _tf2(handle: str, path: str, obj: Any, fmt: str) -> LoadedModule:
    if not hasattr(obj, "vocab_file") or not hasattr(obj, "do_lower_case"):
        raise InterfaceError(f"{path} carries no vocab_file / do_lower_case, so its vocab is "
                             "unknown; pass a preprocessing model with --preprocess")

    def run(input_ids: np.ndarray, input_mask: np.ndarray, segment_ids: np.ndarray) -> dict:
        ids, mask, types = (tf.constant(a, tf.int32) for a in (input_ids, input_mask, segment_ids))
        if fmt == TF2_DICT:
            out = obj({"input_word_ids": ids, "input_mask": mask, "input_type_ids": types})
            missing = [k for k in OUTPUTS if k not in out]
            if missing:
                raise InterfaceError(f"{path} returned no {', '.join(missing)}; it is no BERT encoder")
            return {k: out[k].numpy() for k in OUTPUTS}
        pooled, sequence = obj([ids, mask, types])
        return {"pooled_output": pooled.numpy(), "sequence_output": sequence.numpy()}

    variables = list(getattr(obj, "variables", []))
    return LoadedModule(handle, path, fmt, "__call__ (dict)" if fmt == TF2_DICT else "__call__ (list)",
                        obj, variables, run,
                        _vocab_file(path, obj.vocab_file.asset_path.numpy().decode()),
                        bool(obj.do_lower_case.numpy()), _max_seq_length(path, variables))


def _vocab_file(path: str, vocab_file: str) -> str:
    # In TF2 a TF1 module's asset can come back as the path on the exporting machine.
    if not os.path.isfile(vocab_file):
        vocab_file = os.path.join(path, "assets", os.path.basename(vocab_file))
    if not os.path.isfile(vocab_file):
        raise InterfaceError(f"{path}: the vocab file {os.path.basename(vocab_file)} is missing "
                             "from assets/; the module is incomplete, fetch or unpack it again")
    return vocab_file


def _max_seq_length(path: str, variables: list) -> int:
    return (stored_weights.max_seq_length(stored_weights.from_variables(variables))
            or stored_weights.max_seq_length(stored_weights.from_checkpoint(path))
            or FALLBACK_MAX_SEQ_LENGTH)
