"""Bad input: one clear line, a documented exit code, nothing half-written."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tfhub_pooling import api, cli, provision
from tfhub_pooling.builder import build, sources
from tfhub_pooling.errors import BadWeightsError, InterfaceError, NotAModuleError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
v1 = tf.compat.v1


def _copy(module_path, tmp_path):
    return str(shutil.copytree(module_path, tmp_path / "copy"))


def test_corrupt_saved_model_pb(tmp_path, small_module_path):
    path = _copy(small_module_path, tmp_path)
    with open(os.path.join(path, "saved_model.pb"), "wb") as f:
        f.write(b"\x00garbage, not a protobuf\xff" * 10)
    with pytest.raises(NotAModuleError, match="could not be loaded"):
        api.load(path)


def test_variables_missing(tmp_path, small_module_path):
    path = _copy(small_module_path, tmp_path)
    for name in os.listdir(os.path.join(path, "variables")):
        if name.startswith("variables.data"):
            os.remove(os.path.join(path, "variables", name))
    with pytest.raises(NotAModuleError, match="its weights in variables/ are damaged"):
        api.load(path)
    os.remove(os.path.join(path, "variables", "variables.index"))
    with pytest.raises(NotAModuleError, match="weights are missing"):
        api.load(path)


def _tf1_module(path, signatures):
    """A TF1 Hub-format module with the given {name: (inputs, outputs)} signatures."""
    with tf.Graph().as_default():
        tensors = {name: v1.placeholder(tf.int32, [None, None], name=name)
                   for name in ("input_ids", "input_mask", "segment_ids")}
        x = v1.get_variable("x", shape=[], initializer=v1.ones_initializer())
        tensors["pooled_output"] = tf.cast(tensors["input_ids"], tf.float32) * x
        info = v1.saved_model.utils.build_tensor_info
        defs = {name: v1.saved_model.signature_def_utils.build_signature_def(
                inputs={k: info(tensors[k]) for k in ins}, outputs={k: info(tensors[k]) for k in outs})
                for name, (ins, outs) in signatures.items()}
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            b = v1.saved_model.Builder(str(path))
            b.add_meta_graph_and_variables(sess, tags=[], signature_def_map=defs)
            b.save()
    (path / "tfhub_module.pb").write_bytes(b"\x08\x03")
    return str(path)


def test_no_tokens_signature(tmp_path):
    path = _tf1_module(tmp_path / "m", {"default": (["input_ids"], ["pooled_output"])})
    with pytest.raises(InterfaceError, match="no `tokens` signature .*default"):
        api.load(path)


def test_tokens_signature_without_sequence_output(tmp_path):
    path = _tf1_module(tmp_path / "m", {"tokens": (["input_ids", "input_mask", "segment_ids"],
                                                   ["pooled_output"])})
    with pytest.raises(InterfaceError, match="lacks sequence_output"):
        api.load(path)


def _module_with(tmp_path, small_hf_dir, name, row=None):
    w = sources.from_hf_dir(small_hf_dir)
    w.params[name] = w.params[name].copy()
    if row is None:
        w.params[name][...] = np.nan
    else:
        w.params[name][row] = np.inf
    return build.build_module(w, str(tmp_path / "bad"))


def test_nan_in_outputs(tmp_path, small_hf_dir):
    path = _module_with(tmp_path, small_hf_dir, "bert/embeddings/word_embeddings", row=101)  # [CLS]
    with pytest.raises(BadWeightsError, match="NaN/Inf"):
        api.verify(path)


def test_nan_in_pooler_bias(tmp_path, small_hf_dir):
    path = _module_with(tmp_path, small_hf_dir, "bert/pooler/dense/bias")
    with pytest.raises(BadWeightsError, match="NaN/Inf"):
        api.verify(path)


def test_texts_file_errors(tmp_path, default_module_path, capsys):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("fine line\nsecond fine line\ncaf\xe9 au lait\n".encode("latin-1"))
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    for path, message in ((bad, "line 3 is not UTF-8"), (empty, "holds no texts"),
                          (tmp_path / "missing.txt", "cannot read texts file")):
        assert cli.main(["verify", "--texts-file", str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0]


def test_texts_file_with_pairs_and_truncation(tmp_path, default_module_path, capsys):
    f = tmp_path / "texts.txt"
    f.write_text("A single sentence.\nFirst half.\tSecond half.\n" + "long " * 600 + "\n", encoding="utf-8")
    assert cli.main(["verify", "--json", "--texts-file", str(f)]) == 0
    doc = json.loads(capsys.readouterr().out)
    # [CLS] a single sentence . [SEP]; [CLS] first half . [SEP] second half . [SEP]; 512 trimmed
    inputs = doc["inputs"]
    assert (inputs["text_count"], inputs["truncated"], inputs["tokens"]) == (3, 1, 6 + 9 + 512)
    f.write_text("fine\ttoo\tmany tabs\n", encoding="utf-8")
    assert cli.main(["verify", "--texts-file", str(f)]) == 2
    assert "line 1 has 2 tabs" in capsys.readouterr().err


def test_debug_shows_the_traceback_and_keeps_the_exit_code(capsys):
    assert cli.main(["--debug", "verify", "--handle", "/no/such/module"]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "HandleError" in err
    assert err.strip().splitlines()[-1].startswith("error: /no/such/module does not exist")


def _tree_digest(path):
    h = hashlib.sha256()
    for root, _dirs, files in sorted(os.walk(path)):
        for name in sorted(files):
            full = os.path.join(root, name)
            h.update(full.encode())
            h.update(open(full, "rb").read())
    return h.hexdigest()


def test_read_only_module_verifies_untouched(tmp_path, small_module_path):
    """Root ignores permission bits, so the test also checks nothing was written."""
    path = _copy(small_module_path, tmp_path)
    for root, dirs, files in os.walk(path):
        for name in files + dirs:
            os.chmod(os.path.join(root, name), stat.S_IREAD | (stat.S_IEXEC if name in dirs else 0))
    os.chmod(path, stat.S_IREAD | stat.S_IEXEC)
    before = _tree_digest(path)
    assert api.verify(path).ok
    assert _tree_digest(path) == before


def test_two_processes_build_the_default_at_once(tmp_path):
    env = dict(os.environ, TFHUB_POOLING_CACHE=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-m", "tfhub_pooling", "verify", "--text", "Hi."],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    for out, err, code in results:
        assert code == 0, err
        assert "MATCHES_POOLER" in out
    assert os.listdir(tmp_path) == [provision.default_path().name]   # no staging left behind


def test_options_are_checked_once_where_they_are_made(tmp_path):
    """One Options for the CLI, the API and the plugin: each refusal before any module loads
    (the handles below do not exist, so a load would fail otherwise)."""
    from tfhub_pooling.errors import UsageError
    from tfhub_pooling.study.options import Options
    with pytest.raises(UsageError, match="texts or a texts file, not both"):
        Options(texts=["Hi."], texts_file="corpus.txt")
    with pytest.raises(UsageError, match="batch_size must be a whole number at least 1"):
        Options(batch_size=0)
    with pytest.raises(UsageError, match="leave out --vocab"):
        Options(preprocess="p", vocab="v.txt")
    with pytest.raises(UsageError, match="not both"):
        api.verify(str(tmp_path / "none"), options=Options(), vocab="v.txt")
    with pytest.raises(UsageError, match="max_seq_length 2 cannot hold"):       # not a row per module
        api.verify_many([str(tmp_path / "a"), str(tmp_path / "b")], max_seq_length=2)
    with pytest.raises(UsageError, match="needs a texts file"):
        api.verify_corpus(handle=str(tmp_path / "none"))
