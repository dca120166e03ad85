"""Handles, the tensorflow_hub loading path, and what the study finds in a module."""

from __future__ import annotations

import os
import shutil
import tarfile
import time

import pytest

from tfhub_pooling.builder import build, sources
from tfhub_pooling.errors import HandleError, InterfaceError, NotAModuleError
from tfhub_pooling.study import handles, naming, pipeline, stored_pooler, stored_variables


def test_local_tar_gz_loads_through_tensorflow_hub(tmp_path, small_module_path):
    archive = tmp_path / "module.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in os.listdir(small_module_path):
            tar.add(os.path.join(small_module_path, name), arcname=name)
    resolved = handles.resolve(str(archive))
    assert resolved.startswith(os.environ["TFHUB_CACHE_DIR"])
    assert pipeline.verify(str(archive)).ok


def test_unreachable_url_fails_fast_with_advice():
    start = time.monotonic()
    with pytest.raises(HandleError) as e:
        handles.resolve("https://tfhub.dev/google/bert_uncased_L-12_H-768_A-12/1")
    assert time.monotonic() - start < handles.URL_TIMEOUT_S + 5
    assert "cannot fetch" in str(e.value) and "--handle" in str(e.value)


def test_missing_path_and_plain_file(tmp_path):
    with pytest.raises(HandleError, match="does not exist"):
        handles.resolve(str(tmp_path / "nope"))
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(NotAModuleError, match="is a file"):
        handles.resolve(str(tmp_path / "f.txt"))


def test_directory_without_saved_model(tmp_path):
    with pytest.raises(NotAModuleError, match="no saved_model.pb"):
        pipeline.verify(str(tmp_path))


def test_vocab_falls_back_to_the_module_assets(tmp_path, small_hf_dir):
    """A TF1 module's asset path can point at the exporting machine's file; it may be gone."""
    moved = tmp_path / "hf"
    shutil.copytree(small_hf_dir, moved)
    path = build.build_module(sources.from_hf_dir(moved), str(tmp_path / "module"))
    shutil.rmtree(moved)
    module = pipeline.load(path)
    assert module.vocab_file == os.path.join(path, "assets", "vocab.txt")
    assert pipeline.verify(module=module).ok


def test_missing_vocab_asset(tmp_path, small_module_path):
    copy = shutil.copytree(small_module_path, tmp_path / "m")
    os.remove(copy / "assets" / "vocab.txt")
    # The exporting machine's vocab path still exists here, so hide it too.
    module_vocab = pipeline.load(str(small_module_path)).vocab_file
    assert os.path.isfile(module_vocab)
    hidden = module_vocab + ".hidden"
    os.rename(module_vocab, hidden)
    try:
        with pytest.raises(InterfaceError, match="vocab"):
            pipeline.load(str(copy))
    finally:
        os.rename(hidden, module_vocab)


class _Var:
    def __init__(self, name, value):
        self.name, self._value = name, value
        self.shape = value.shape

    def numpy(self):
        return self._value


def test_naming_table_tolerates_wrapping_prefixes():
    import numpy as np
    k, b = np.zeros((4, 4), np.float32), np.zeros(4, np.float32)
    for kernel_name, scheme in [("bert/pooler/dense/kernel:0", "google-research"),
                                ("module/bert/pooler/dense/kernel:0", "google-research"),
                                ("keras_layer/pooler_transform/kernel:0", "model-garden"),
                                ("tf_bert_model/bert_main/pooler/dense/kernel:0", "hf-tf"),
                                ("bert_model/pooled_dense/kernel:0", "keras-hub")]:
        bias_name = kernel_name.replace("kernel", "bias")
        found = stored_pooler.find(stored_variables.from_variables([_Var(kernel_name, k), _Var(bias_name, b)]), 4, 'test')
        assert found.scheme == scheme
        assert found.kernel_name == naming.strip_suffix(kernel_name)


def test_pooler_search_says_what_it_searched():
    import numpy as np
    with pytest.raises(stored_pooler.PoolerNotFound, match="searched .*pooler_transform"):
        stored_pooler.find(stored_variables.from_variables([_Var("dense/kernel:0", np.zeros((4, 4)))]), 4, 'test')
    two = [_Var("a/bert/pooler/dense/kernel:0", np.zeros((4, 4))),
           _Var("b/bert/pooler/dense/kernel:0", np.zeros((4, 4)))]
    with pytest.raises(stored_pooler.PoolerNotFound, match="2 pooler kernel candidates"):
        stored_pooler.find(stored_variables.from_variables(two), 4, 'test')


def test_wrong_shape_or_nan_pooler_is_refused():
    import numpy as np

    from tfhub_pooling.errors import BadWeightsError
    with pytest.raises(BadWeightsError, match="shape"):
        stored_pooler.find(stored_variables.from_variables([_Var("bert/pooler/dense/kernel:0", np.zeros((4, 3), np.float32)),
                             _Var("bert/pooler/dense/bias:0", np.zeros(4, np.float32))]), 4, 'test')
    bad = np.zeros((4, 4), np.float32)
    bad[1, 1] = np.nan
    with pytest.raises(BadWeightsError, match="NaN"):
        stored_pooler.find(stored_variables.from_variables([_Var("bert/pooler/dense/kernel:0", bad),
                             _Var("bert/pooler/dense/bias:0", np.zeros(4, np.float32))]), 4, 'test')
