"""The one module boundary: what a local directory holds (detect.py) -> the loader
for that kind -> one LoadedModule, however it was written.

`verify`, `inspect`, corpus mode, compare and the many-module run all load through
`load`; a new kind of module is a new entry in LOADERS. A preprocessing model (what
--preprocess names) loads through `load_preprocessing`, and `inspect`, which reads
either, through `load_any`. A google-research checkpoint has
no loader here: it is no module until provisioning (provision.py) builds one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tfhub_pooling.errors import InterfaceError, NotAModuleError
from tfhub_pooling.formats import CHECKPOINT, HF_CHECKPOINT, KERAS_HUB, LITERT, PREPROCESS
from tfhub_pooling.study import detect, hf_checkpoint, keras_hub_loading, litert, loading
from tfhub_pooling.study.encoder_inputs import PreprocessingModel
from tfhub_pooling.study.loading import LoadedModule

Loader = Callable[[str, detect.OnDisk, Any], LoadedModule]

def _hf_save_pretrained(handle: str, found: detect.OnDisk, obj: Any) -> LoadedModule:
    # The SavedModel under saved_model/<version>/; the vocab and casing beside it, in found.path.
    return loading.load(handle, found.saved_model or found.path, obj, beside=found.path)


LOADERS: dict[str, Loader] = {
    KERAS_HUB: lambda handle, found, obj: keras_hub_loading.load(handle, found.path),
    HF_CHECKPOINT: lambda handle, found, obj: hf_checkpoint.load(handle, found.path),
    LITERT: lambda handle, found, obj: litert.load(handle, found.path),
    detect.HF_SAVE_PRETRAINED: _hf_save_pretrained,
    detect.SAVED_MODEL: lambda handle, found, obj: loading.load(handle, found.path, obj),
}


def load_preprocessing(handle: str, found: detect.OnDisk, obj: Any = None) -> PreprocessingModel:
    """The BERT preprocessing model `handle` resolved to (its tokenize and bert_pack_inputs),
    as --preprocess names it and `inspect` reads it."""
    path = found.saved_model
    obj = obj if obj is not None or path is None else loading.load_saved_model(path)
    if path is None or loading.detect_format(path, obj) != PREPROCESS:
        raise InterfaceError(f"{handle} is no BERT preprocessing model (it lacks tokenize and bert_pack_inputs)")
    return PreprocessingModel(loading.preprocessing_facts(handle, path, obj), obj)


def load_any(handle: str, found: detect.OnDisk) -> LoadedModule | PreprocessingModel:
    """An encoder, or a preprocessing model, by what is there: what `inspect` reads."""
    obj = None
    if found.saved_model is not None:
        obj = loading.load_saved_model(found.saved_model)
        if loading.detect_format(found.saved_model, obj) == PREPROCESS:
            return load_preprocessing(handle, found, obj)
    return load(handle, found, obj)


def load(handle: str, found: detect.OnDisk, obj: Any = None) -> LoadedModule:
    """Loads what `handle` resolved to, by the kind detect() found there.

    obj: what hub.load already returned for the SavedModel there, so it is not loaded twice.
    """
    if found.kind == CHECKPOINT:
        raise NotAModuleError(f"{found.path} is a google-research checkpoint, not a module; "
                              "tfhub_pooling.load() and the CLI build it into one first")
    return LOADERS[found.kind](handle, found, obj)
