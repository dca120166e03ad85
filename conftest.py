"""What both tiers (tests/, compat/) need before anything else runs."""

from __future__ import annotations

import os

import pytest

# Before TensorFlow is imported anywhere: quiet C++ logs.
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"


@pytest.fixture(scope="session", autouse=True)
def private_caches(tmp_path_factory):
    """The default module and tensorflow_hub's cache live in temp dirs, never the user's."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TFHUB_POOLING_CACHE", str(tmp_path_factory.mktemp("tfhub-pooling-cache")))
    mp.setenv("TFHUB_CACHE_DIR", str(tmp_path_factory.mktemp("tfhub-cache")))
    yield
    mp.undo()
