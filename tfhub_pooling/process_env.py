"""The environment the `tfhub-pooling` command sets up for its own process, and the
user's environment as it was, for the other programs the benchmark starts.

`import tensorflow` eagerly imports whichever Keras tf.keras names, so that its
optimizers register with SavedModel; Keras 3 brings matplotlib.pyplot along, and
that import cost 0.6-0.9 s of a cold `verify` in the benchmark (README "How fast it
is"). The study never uses tf.keras: tensorflow_hub imports tf_keras itself, and
keras_hub imports Keras 3 itself when a preset is loaded. So the command lets
tf.keras name tf_keras (TensorFlow's TF_USE_LEGACY_KERAS), unless the user's
environment says otherwise. main() also runs inside other programs, whose tf.keras
is theirs to choose: only the command's entry point calls prefer_tf_keras().
"""

from __future__ import annotations

import os
import sys

LEGACY_KERAS = "TF_USE_LEGACY_KERAS"
_USERS = os.environ.get(LEGACY_KERAS)      # as the process found it, before prefer_tf_keras


def prefer_tf_keras() -> None:
    """tf.keras names tf_keras in this process, if TensorFlow is not loaded yet and the
    user's environment does not choose."""
    if "tensorflow" not in sys.modules:
        os.environ.setdefault(LEGACY_KERAS, "1")


def users_environ() -> dict[str, str]:
    """os.environ without what prefer_tf_keras added: for programs that are not the study."""
    env = dict(os.environ)
    if _USERS is None:
        env.pop(LEGACY_KERAS, None)
    else:
        env[LEGACY_KERAS] = _USERS
    return env
