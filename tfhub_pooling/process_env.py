"""The environment the `tfhub-pooling` command sets up for its own process, and the
user's environment as it was, for the other programs the benchmark starts.

TensorFlow reads both settings once, when it is imported, so they are made before
that and only where the user's environment does not choose:

  TF_USE_LEGACY_KERAS=1    `import tensorflow` eagerly imports whichever Keras tf.keras
                           names, so that its optimizers register with SavedModel; Keras 3
                           brings matplotlib.pyplot along (0.6-0.9 s of a cold `verify` in
                           the benchmark). The study never uses tf.keras: tensorflow_hub
                           imports tf_keras itself, keras_hub imports Keras 3 itself.
  TF_ENABLE_ONEDNN_OPTS=1  TensorFlow's oneDNN kernels, its default only on CPUs with
                           AVX512-VNNI or AMX; on an AVX2 machine they ran the default
                           module's forward passes faster (docs/speed.md).
                           The verdict's float32 bound holds for any order of summation,
                           and the suite passes with them on as with them off.

TF_ONEDNN_ASSUME_FROZEN_WEIGHTS is left off on purpose: it makes oneDNN cache a matmul's
reordered weights per kernel, not per weight, and eager kernels are shared between
calls, so an eager Keras model (a KerasHub preset) could run every layer with its first
layer's weights.

main() also runs inside other programs, whose TensorFlow is theirs to set up: only the
command's entry point calls prepare().
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator

LEGACY_KERAS = "TF_USE_LEGACY_KERAS"
ONEDNN = "TF_ENABLE_ONEDNN_OPTS"
SETTINGS = {LEGACY_KERAS: "1", ONEDNN: "1"}
_USERS = {name: os.environ.get(name) for name in SETTINGS}    # before prepare()


def prepare() -> None:
    """SETTINGS in this process, where TensorFlow is not loaded yet and the user's
    environment does not choose."""
    if "tensorflow" not in sys.modules:
        for name, value in SETTINGS.items():
            os.environ.setdefault(name, value)


def users_environ() -> dict[str, str]:
    """os.environ without what prepare() added: for programs that are not the study."""
    env = dict(os.environ)
    for name, value in _USERS.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@contextlib.contextmanager
def _quiet_stderr(enabled: bool) -> Iterator[None]:
    """TensorFlow's C++ runtime logs to fd 2 while importing, whatever TF_CPP_MIN_LOG_LEVEL says."""
    if not enabled:
        yield
        return
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow(quiet: bool = True) -> None:
    """Imports TensorFlow, tensorflow_hub and tensorflow_text; quiet: with their start-up
    logs and tensorflow_hub's pkg_resources warning kept off stderr (the command without
    --debug, a notebook's first cell)."""
    if quiet:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _quiet_stderr(quiet), warnings.catch_warnings():
        if quiet:
            warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        import tensorflow as tf
        import tensorflow_hub  # noqa: F401  (its import logs too)
        import tensorflow_text  # noqa: F401
    if quiet:
        tf.get_logger().setLevel("ERROR")
