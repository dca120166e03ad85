"""The command's own process: tf.keras names tf_keras, so `import tensorflow` leaves Keras 3
unimported, unless the user's environment chooses; other programs get the user's choice."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tfhub_pooling.process_env import LEGACY_KERAS

AS_THE_COMMAND_STARTS = """
import json, os, sys
from tfhub_pooling import process_env
process_env.prefer_tf_keras()
import tensorflow, tensorflow_hub, tensorflow_text
print(json.dumps({"keras_3_imported": "keras.src" in sys.modules, "tf_keras_imported": "tf_keras" in sys.modules,
                  "ours": os.environ.get(process_env.LEGACY_KERAS),
                  "others": process_env.users_environ().get(process_env.LEGACY_KERAS)}))
"""


def start(users_choice: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != LEGACY_KERAS} | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    if users_choice is not None:
        env[LEGACY_KERAS] = users_choice
    proc = subprocess.run([sys.executable, "-c", AS_THE_COMMAND_STARTS], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_command_imports_tensorflow_without_keras_3():
    seen = start(None)
    assert seen == {"keras_3_imported": False, "tf_keras_imported": True, "ours": "1", "others": None}


@pytest.mark.parametrize("choice, keras_3", [("0", True), ("1", False)])
def test_the_users_choice_stands_for_the_command_and_for_other_programs(choice, keras_3):
    seen = start(choice)
    assert seen["keras_3_imported"] is keras_3
    assert seen["ours"] == seen["others"] == choice
