"""The one module boundary: what a local directory holds (detect.py) -> the loader
for that kind -> one LoadedModule, however it was written.

`verify`, `inspect`, corpus mode and the many-module run all load through `load`;
a new kind of module is a new entry in LOADERS. A google-research checkpoint has
no loader here: it is no module until provisioning (provision.py) builds one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tfhub_pooling.errors import NotAModuleError
from tfhub_pooling.formats import CHECKPOINT, HF_CHECKPOINT, KERAS_HUB, LITERT
from tfhub_pooling.study import detect, hf_checkpoint, keras_hub_loading, litert, loading
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


def load(handle: str, found: detect.OnDisk, obj: Any = None) -> LoadedModule:
    """Loads what `handle` resolved to, by the kind detect() found there.

    obj: what hub.load already returned for the SavedModel there, so it is not loaded twice.
    """
    if found.kind == CHECKPOINT:
        raise NotAModuleError(f"{found.path} is a google-research checkpoint, not a module; "
                              "tfhub_pooling.load() and the CLI build it into one first")
    return LOADERS[found.kind](handle, found, obj)
