"""The command's own process: tf.keras names tf_keras, so `import tensorflow` leaves Keras 3
unimported, and TensorFlow's oneDNN kernels are on, unless the user's environment chooses;
other programs get the user's choice."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tfhub_pooling.process_env import LEGACY_KERAS, ONEDNN, SETTINGS

# What TensorFlow made of the environment, read back from TensorFlow itself.
AS_THE_COMMAND_STARTS = """
import json, os, sys
from tfhub_pooling import process_env
process_env.prepare()
import tensorflow, tensorflow_hub, tensorflow_text
from tensorflow.python.util import _pywrap_util_port
print(json.dumps({"keras_3_imported": "keras.src" in sys.modules, "tf_keras_imported": "tf_keras" in sys.modules,
                  "onednn_on": _pywrap_util_port.IsMklEnabled(),
                  "ours": {k: os.environ.get(k) for k in process_env.SETTINGS},
                  "others": {k: process_env.users_environ().get(k) for k in process_env.SETTINGS}}))
"""


def start(users_choice: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS} | {"TF_CPP_MIN_LOG_LEVEL": "3"} | users_choice
    proc = subprocess.run([sys.executable, "-c", AS_THE_COMMAND_STARTS], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_command_sets_up_tensorflow_for_itself_alone():
    seen = start({})
    assert seen["keras_3_imported"] is False and seen["tf_keras_imported"] is True
    assert seen["onednn_on"] is True
    assert seen["ours"] == {LEGACY_KERAS: "1", ONEDNN: "1"}
    assert seen["others"] == {LEGACY_KERAS: None, ONEDNN: None}


@pytest.mark.parametrize("choice, keras_3", [("0", True), ("1", False)])
def test_the_users_keras_choice_stands_for_the_command_and_for_other_programs(choice, keras_3):
    seen = start({LEGACY_KERAS: choice})
    assert seen["keras_3_imported"] is keras_3
    assert seen["ours"][LEGACY_KERAS] == seen["others"][LEGACY_KERAS] == choice


def test_the_users_onednn_choice_stands():
    seen = start({ONEDNN: "0"})
    assert seen["onednn_on"] is False
    assert seen["ours"][ONEDNN] == seen["others"][ONEDNN] == "0"
    assert seen["ours"][LEGACY_KERAS] == "1"           # the other setting is still made
