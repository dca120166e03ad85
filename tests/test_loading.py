"""Handles, the tensorflow_hub loading path, and what the study finds in a module."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile

import numpy as np
import pytest
import tensorflow as tf

from tfhub_pooling import api
from tfhub_pooling.builder import build, sources
from tfhub_pooling.conventions import naming
from tfhub_pooling.errors import HandleError, InterfaceError, NotAModuleError
from tfhub_pooling.study import (
    handles,
    loading,
    stored_pooler,
    stored_variables,
)


def test_local_tar_gz_loads_through_tensorflow_hub(tmp_path, small_module_path):
    archive = tmp_path / "module.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in os.listdir(small_module_path):
            tar.add(os.path.join(small_module_path, name), arcname=name)
    resolved = handles.resolve(str(archive))
    assert resolved.startswith(os.environ["TFHUB_CACHE_DIR"])
    assert api.verify(str(archive)).ok


def test_unreachable_url_fails_fast_with_advice():
    with pytest.raises(HandleError) as e:
        handles.resolve("https://tfhub.invalid/google/bert_uncased_L-12_H-768_A-12/1")
    assert "cannot fetch" in str(e.value) and "--handle" in str(e.value)


def test_a_tfhub_dev_url_goes_through_tensorflow_hubs_cache(small_module_path):
    """The question's own handle, resolved by tensorflow_hub from its cache: no download is tried."""
    url = "https://tfhub.dev/google/bert_uncased_L-12_H-768_A-12/1"
    cached = os.path.join(os.environ["TFHUB_CACHE_DIR"], hashlib.sha1(url.encode()).hexdigest())
    shutil.copytree(small_module_path, cached)
    try:
        r = api.verify(url, texts=["Hello there."])
        assert r.ok and r.module.path == cached and r.module.handle == url
    finally:
        shutil.rmtree(cached)


def test_missing_path_and_plain_file(tmp_path):
    with pytest.raises(HandleError, match="does not exist"):
        handles.resolve(str(tmp_path / "nope"))
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(NotAModuleError, match="is a file"):
        handles.resolve(str(tmp_path / "f.txt"))


def test_directory_without_saved_model(tmp_path):
    with pytest.raises(NotAModuleError, match="no saved_model.pb"):
        api.verify(str(tmp_path))


def test_vocab_is_the_modules_own_asset(tmp_path, small_hf_dir):
    """Not the exporting machine's file: that one may change or vanish after export."""
    source = tmp_path / "hf"
    shutil.copytree(small_hf_dir, source)
    path = build.build_module(sources.from_hf_dir(source), str(tmp_path / "module"))
    module = api.load(path)
    assert module.facts.vocab_file == os.path.join(path, "assets", "vocab.txt")
    assert module.facts.vocab_source == loading.VOCAB_IN_MODULE
    before = api.verify(module=module, texts=["Hello there."])
    (source / "vocab.txt").write_text("[PAD]\n[UNK]\n", encoding="utf-8")   # the exporter's copy changes
    after = api.verify(path, texts=["Hello there."])
    assert after.ok and np.array_equal(after.inputs.input_ids, before.inputs.input_ids)
    shutil.rmtree(source)
    assert api.verify(path, texts=["Hello there."]).ok


def test_missing_vocab_asset_is_refused_though_the_exporters_file_exists(tmp_path, small_module_path):
    copy = shutil.copytree(small_module_path, tmp_path / "m")
    os.remove(copy / "assets" / "vocab.txt")
    with pytest.raises(InterfaceError, match="vocab.txt .*missing from assets/") as e:
        api.load(str(copy))
    assert e.value.exit_code == 5


def _var(name: str, value) -> tf.Variable:
    """A real variable under an exporter's name (`a/b/kernel:0` as TF names it)."""
    return tf.Variable(value, name=name.removesuffix(":0"))


def test_naming_table_tolerates_wrapping_prefixes():
    import numpy as np
    k, b = np.zeros((4, 4), np.float32), np.zeros(4, np.float32)
    for kernel_name, scheme in [("bert/pooler/dense/kernel:0", "google-research"),
                                ("module/bert/pooler/dense/kernel:0", "google-research"),
                                ("keras_layer/pooler_transform/kernel:0", "model-garden"),
                                ("encoder_scaffold/cls_transform/kernel:0", "model-garden-scaffold"),
                                ("tf_bert_model/bert_main/pooler/dense/kernel:0", "hf-tf"),
                                ("bert_model/pooled_dense/kernel:0", "keras-hub")]:
        bias_name = kernel_name.replace("kernel", "bias")
        found = stored_pooler.find(stored_variables.from_variables([_var(kernel_name, k), _var(bias_name, b)]), 4, 'test')
        assert found.scheme == scheme
        assert found.kernel_name == naming.strip_suffix(kernel_name)


def test_pooler_search_says_what_it_searched():
    import numpy as np
    with pytest.raises(stored_pooler.PoolerNotFound, match="searched .*pooler_transform"):
        stored_pooler.find(stored_variables.from_variables([_var("dense/kernel:0", np.zeros((4, 4)))]), 4, 'test')
    two = [_var("a/bert/pooler/dense/kernel:0", np.zeros((4, 4))),
           _var("b/bert/pooler/dense/kernel:0", np.zeros((4, 4)))]
    with pytest.raises(stored_pooler.PoolerNotFound, match="2 pooler kernel candidates"):
        stored_pooler.find(stored_variables.from_variables(two), 4, 'test')


def test_wrong_shape_or_nan_pooler_is_refused():
    import numpy as np

    from tfhub_pooling.errors import BadWeightsError
    with pytest.raises(BadWeightsError, match="shape"):
        stored_pooler.find(stored_variables.from_variables([_var("bert/pooler/dense/kernel:0", np.zeros((4, 3), np.float32)),
                                                            _var("bert/pooler/dense/bias:0", np.zeros(4, np.float32))]),
                           4, 'test')
    bad = np.zeros((4, 4), np.float32)
    bad[1, 1] = np.nan
    with pytest.raises(BadWeightsError, match="NaN"):
        stored_pooler.find(stored_variables.from_variables([_var("bert/pooler/dense/kernel:0", bad),
                                                            _var("bert/pooler/dense/bias:0", np.zeros(4, np.float32))]),
                           4, 'test')


def test_a_pooler_narrower_than_the_outputs_is_refused():
    """Found before any batch runs (no width known then); held to the outputs' width after."""
    import numpy as np

    from tfhub_pooling.errors import BadWeightsError
    pooler = stored_pooler.find(stored_variables.from_variables(
        [_var("bert/pooler/dense/kernel:0", np.eye(4, dtype=np.float32)),
         _var("bert/pooler/dense/bias:0", np.zeros(4, np.float32))]), None, "test")
    stored_pooler.check_width(pooler, 4)
    with pytest.raises(BadWeightsError, match=r"bert/pooler/dense/kernel has shape \[4, 4\], expected \[8, 8\]"):
        stored_pooler.check_width(pooler, 8)
