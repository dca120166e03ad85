"""Local module directory -> a loaded module with a uniform BERT interface.

Loading is tensorflow_hub's `hub.load`; this module only detects which BERT
interface the loaded object offers and adapts it to one call:
`run(input_ids, input_mask, segment_ids) -> {"pooled_output", "sequence_output"}`.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable

import numpy as np
import tensorflow as tf
import tensorflow_hub as hub

from tfhub_pooling import naming
from tfhub_pooling.errors import InterfaceError, NotAModuleError

TF1_HUB = "tf1-hub"
TOKENS_INPUTS = ("input_ids", "input_mask", "segment_ids")
TOKENS_OUTPUTS = ("pooled_output", "sequence_output")

# Used when a module's position-embedding table cannot be found by name.
FALLBACK_MAX_SEQ_LENGTH = 512

RunFn = Callable[[np.ndarray, np.ndarray, np.ndarray], dict[str, np.ndarray]]


@dataclasses.dataclass
class LoadedModule:
    handle: str
    path: str                   # the local directory tensorflow_hub resolved
    format: str
    signature: str              # what `run` calls
    obj: Any                    # what hub.load returned
    variables: list             # tf.Variables, with their names as loaded
    run: RunFn
    vocab_file: str
    do_lower_case: bool
    max_seq_length: int


def load(handle: str, path: str) -> LoadedModule:
    """Loads the module at local `path` (resolved from `handle`) with hub.load."""
    _check_saved_model_dir(path)
    try:
        obj = hub.load(path)
    except (tf.errors.OpError, ValueError, OSError, RuntimeError) as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise NotAModuleError(f"{path} could not be loaded as a SavedModel ({first_line}); "
                              "is it complete and uncorrupted?") from e
    if os.path.exists(os.path.join(path, "tfhub_module.pb")):
        return _tf1_hub(handle, path, obj)
    raise InterfaceError(f"{path} is a TF2 SavedModel; this version verifies TF1 Hub-format "
                         "BERT modules (with a `tokens` signature) only")


def _check_saved_model_dir(path: str) -> None:
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise NotAModuleError(f"{path} has no saved_model.pb, so it is no SavedModel or Hub "
                              "module; point --handle at the module's top directory")
    if not os.path.isfile(os.path.join(path, "variables", "variables.index")):
        raise NotAModuleError(f"{path} has no variables/variables.index; the module's "
                              "weights are missing, fetch or unpack it again")


def _tf1_hub(handle: str, path: str, obj: Any) -> LoadedModule:
    if "tokens" not in obj.signatures:
        raise InterfaceError(f"{path} has no `tokens` signature (it has: "
                             f"{', '.join(sorted(obj.signatures)) or 'none'}); it is no BERT module")
    tokens = obj.signatures["tokens"]
    missing_in = sorted(set(TOKENS_INPUTS) - set(tokens.structured_input_signature[1]))
    missing_out = sorted(set(TOKENS_OUTPUTS) - set(tokens.structured_outputs))
    if missing_in or missing_out:
        raise InterfaceError(f"{path}: the `tokens` signature lacks "
                             f"{', '.join(missing_in + missing_out)}; it is no BERT module")
    vocab_file, do_lower_case = _tokenization_info(path, obj)

    def run(input_ids: np.ndarray, input_mask: np.ndarray, segment_ids: np.ndarray) -> dict:
        out = tokens(input_ids=tf.constant(input_ids, tf.int32),
                     input_mask=tf.constant(input_mask, tf.int32),
                     segment_ids=tf.constant(segment_ids, tf.int32))
        return {k: out[k].numpy() for k in TOKENS_OUTPUTS}

    variables = list(obj.variables)
    return LoadedModule(handle, path, TF1_HUB, "tokens", obj, variables, run, vocab_file,
                        do_lower_case, _max_seq_length(variables))


def _tokenization_info(path: str, obj: Any) -> tuple[str, bool]:
    if "tokenization_info" not in obj.signatures:
        raise InterfaceError(f"{path} has no `tokenization_info` signature, so its vocab is "
                             "unknown; it is no BERT module of the TF1 Hub kind")
    info = obj.signatures["tokenization_info"]()
    vocab_file = info["vocab_file"].numpy().decode()
    # In TF2 a TF1 module's asset can come back as the path on the exporting machine.
    if not os.path.isfile(vocab_file):
        vocab_file = os.path.join(path, "assets", os.path.basename(vocab_file))
    if not os.path.isfile(vocab_file):
        raise InterfaceError(f"{path}: the vocab file {os.path.basename(vocab_file)} is missing "
                             "from assets/; the module is incomplete, fetch or unpack it again")
    return vocab_file, bool(info["do_lower_case"].numpy())


def _max_seq_length(variables: list) -> int:
    for var in variables:
        if any(naming.matches(var.name, s.position_embeddings) for s in naming.SCHEMES):
            return int(var.shape[0])
    return FALLBACK_MAX_SEQ_LENGTH
