"""The upstream-exporter tier: modules written by the exporters Google used,
each run in a side environment of its own, from checkpoints the builder writes.

Side environments are virtualenvs of the pinned requirements-*.txt beside this
file, made on first use (six of them, 12 GB, about 6 minutes on a 2-core machine) and
cached under $TFHUB_POOLING_COMPAT_ENVS (default ~/.cache/tfhub-pooling/compat-envs),
keyed by the requirements file's hash. Each is made beside its final place and
renamed into it (tfhub_pooling.atomic), so an interrupted set-up leaves nothing
half-installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tfhub_pooling import atomic

HERE = Path(__file__).parent
ENVS = {
    "tf1-hub": HERE / "requirements-tf1-hub.txt",           # tensorflow 2.15.1, hub 0.15.0, bert-tensorflow 1.0.1
    "model-garden": HERE / "requirements-model-garden.txt",  # tf-models-official 2.20.0
    "hf-tf": HERE / "requirements-hf-tf.txt",               # transformers 4.47.1, tensorflow 2.15.1
    "keras-nlp": HERE / "requirements-keras-nlp.txt",       # keras-nlp 0.15.1, keras 3.5.0, tensorflow 2.17.1
    "keras-nlp-0.12": HERE / "requirements-keras-nlp-0.12.txt",  # keras-nlp 0.12.1, keras 3.3.3, tensorflow 2.16.2
    "transformers": HERE / "requirements-transformers.txt",  # transformers 5.25.0 on torch 2.13.0 (CPU)
}
# The small random config of the tier: non-zero biases, tanh GELU as google-research meant "gelu".
SMALL = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 256,
         "max_position_embeddings": 128}


def envs_dir() -> Path:
    return Path(os.environ.get("TFHUB_POOLING_COMPAT_ENVS")
                or Path.home() / ".cache" / "tfhub-pooling" / "compat-envs")


def side_python(name: str) -> Path:
    """The side environment's python, made if the cache lacks it."""
    requirements = ENVS[name]
    key = hashlib.sha1(requirements.read_bytes()).hexdigest()[:12]
    env = envs_dir() / f"{name}-{key}"
    if not (env / ".complete").is_file():
        def make(path: str) -> None:
            # tensorflow 2.15.1 has wheels up to Python 3.11: use the suite's own base interpreter.
            subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", path], check=True)
            subprocess.run([os.path.join(path, "bin", "python"), "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check", "-r", str(requirements)], check=True)
            Path(path, ".complete").write_text(requirements.read_text())

        atomic.remove_stale_staging(str(env.parent), env.name)
        atomic.make_directory(str(env), make, accept_existing=lambda path: Path(path, ".complete").is_file())
        for stale in env.parent.glob(f"{name}-*"):      # made from an older requirements file
            if stale != env and len(stale.name) == len(env.name):
                shutil.rmtree(stale, ignore_errors=True)
    return env / "bin" / "python"


def run_exporter(env: str, script: str, *args: str) -> dict:
    """Runs compat/<script> in the side environment; its last stdout line is JSON."""
    proc = subprocess.run([str(side_python(env)), str(HERE / script), *args],
                          capture_output=True, text=True, env=os.environ | {"CUDA_VISIBLE_DEVICES": ""})
    if proc.returncode != 0:
        pytest.fail(f"{script} failed (rc {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@dataclasses.dataclass
class Exported:
    checkpoint: str       # the google-research checkpoint directory both sides start from
    tf1_hub: str          # tensorflow_hub's TF1 exporter on google-research's modeling.py
    model_garden: str     # Model Garden's export_model (dict encoder)
    preprocess: str       # Model Garden's export_preprocessing
    legacy_list: str | None   # Model Garden's legacy list-in, list-out exporter (BERT only)
    versions: dict


def _export(root: Path, weights) -> Exported:
    from tfhub_pooling.builder import build
    from tfhub_pooling.builder.bert_config import ALBERT
    from tfhub_pooling.formats import CHECKPOINT

    checkpoint = build.build_module(weights, str(root / "checkpoint"), CHECKPOINT)
    tf1_script = "export_albert_tf1_hub.py" if weights.config.architecture == ALBERT else "export_tf1_hub.py"
    tf1 = run_exporter("tf1-hub", tf1_script, checkpoint, str(root / "tf1-hub"))
    mg = run_exporter("model-garden", "export_model_garden.py", checkpoint, str(root / "model-garden"))
    legacy = None
    if weights.config.architecture != ALBERT:
        legacy = run_exporter("model-garden", "export_model_garden_legacy.py", checkpoint,
                              str(root / "model-garden" / "converted"), str(root / "legacy-list"))["exported"]
    return Exported(checkpoint, str(root / "tf1-hub"), str(root / "model-garden" / "encoder"),
                    str(root / "model-garden" / "preprocess"), legacy, tf1 | mg)


@pytest.fixture(scope="session")
def vocab_file() -> str:
    from tfhub_pooling import provision
    return str(provision.weights_dir() / "vocab.txt")


@pytest.fixture(scope="session")
def small_export(tmp_path_factory, vocab_file) -> Exported:
    """A seeded random small BERT, exported by both upstream exporters."""
    from tfhub_pooling.builder import bert_config, sources
    weights = sources.random_weights(bert_config.BertConfig(**SMALL), vocab_file, seed=11)
    return _export(tmp_path_factory.mktemp("small-export"), weights)


# A small ALBERT: E < H, so the embedding projection exists; three layers sharing one set.
SMALL_ALBERT = {"hidden_size": 64, "embedding_size": 16, "num_hidden_layers": 3, "num_attention_heads": 2,
                "intermediate_size": 128, "max_position_embeddings": 128}


@pytest.fixture(scope="session")
def albert_export(tmp_path_factory) -> Exported:
    """A seeded random small ALBERT with the trained SentencePiece model, exported as
    google-research/albert's export_to_tfhub.py and Model Garden export it."""
    from tfhub_pooling import provision
    return _export(tmp_path_factory.mktemp("albert-export"), provision.albert_weights(seed=13, **SMALL_ALBERT))


@pytest.fixture(scope="session")
def minilm_export(tmp_path_factory) -> Exported:
    """The real MiniLM weights as a google-research checkpoint, exported by both.

    google-research's "gelu" is the tanh form, so the checkpoint computes tanh
    GELU wherever it is loaded (its HF config says exact): the same on both sides.
    """
    from tfhub_pooling import provision
    from tfhub_pooling.builder import bert_config, sources
    weights = sources.from_hf_dir(provision.weights_dir())
    weights = dataclasses.replace(weights, config=dataclasses.replace(weights.config,
                                                                      hidden_act=bert_config.GELU_TANH))
    return _export(tmp_path_factory.mktemp("minilm-export"), weights)


@pytest.fixture(scope="session")
def model_garden_encoders(tmp_path_factory, vocab_file) -> dict:
    """Model Garden's other encoder types (MobileBERT, Funnel, FNet, SparseMixer, BigBird,
    kernel attention, Reuse), built small by its own build_encoder and exported by its
    export_model: kind -> module directory, and "versions"."""
    out = tmp_path_factory.mktemp("model-garden-encoders")
    exported = run_exporter("model-garden", "export_model_garden_encoders.py", vocab_file, str(out))
    return exported["exported"] | {"versions": {k: v for k, v in exported.items() if k != "exported"}}


@pytest.fixture(scope="session")
def hf_tf_export(tmp_path_factory) -> Path:
    """The real MiniLM weights saved by transformers' TFBertModel as TF SavedModels: the
    save_pretrained directory, a tf.saved_model.save, and a sequence classifier."""
    from tfhub_pooling import provision
    out = tmp_path_factory.mktemp("hf-tf-export")
    run_exporter("hf-tf", "export_hf_tf.py", str(provision.weights_dir()), str(out))
    return out


@pytest.fixture(scope="session")
def keras_nlp_presets(tmp_path_factory) -> Path:
    """Presets saved by keras-nlp 0.15.1 (`keras_nlp>…` classes): the real MiniLM weights
    through its own converter, a tiny random BERT, and a DistilBERT."""
    from tfhub_pooling import provision
    out = tmp_path_factory.mktemp("keras-nlp-presets")
    run_exporter("keras-nlp", "export_keras_nlp.py", str(provision.weights_dir()), str(out))
    return out


@pytest.fixture(scope="session")
def keras_nlp_012_presets(tmp_path_factory) -> Path:
    """Presets saved by keras-nlp 0.12.1, which has no Hugging Face converter: a tiny random
    BERT and a DistilBERT."""
    from tfhub_pooling import provision
    out = tmp_path_factory.mktemp("keras-nlp-0.12-presets")
    run_exporter("keras-nlp-0.12", "export_keras_nlp.py", str(provision.weights_dir()), str(out),
                 "--kinds", "tiny", "distilbert")
    return out


@pytest.fixture(scope="session")
def transformers_checkpoints(tmp_path_factory) -> Path:
    """Checkpoints saved by transformers 5 itself (PyTorch layout): the real MiniLM weights
    from BertModel, pre-training, masked-LM and classifier classes, sharded and without a
    pooling layer; small random ALBERT (over the builder's SentencePiece model), DistilBERT
    and RoBERTa."""
    from tfhub_pooling import provision
    out = tmp_path_factory.mktemp("transformers-checkpoints")
    run_exporter("transformers", "export_transformers.py", "save", str(provision.weights_dir()),
                 provision.albert_vocab(), str(out))
    return out
