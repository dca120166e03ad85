"""Inputs built as an attacker, or a broken exporter, would build them: each is refused in
one line with its documented exit code, or handled, and never read outside what the
user named, replaces an output that is not a regular file, or spends unbounded memory.
One class of defect a section, in the order of docs/errors.md."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import termios
import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from test_failures import ROOT, fails, small_filesystem

from tfhub_pooling import api, cli, untrusted
from tfhub_pooling.builder import build, sources
from tfhub_pooling.conventions import vocabs
from tfhub_pooling.errors import InterfaceError, UsageError
from tfhub_pooling.formats import KERAS_HUB, TF2_DICT
from tfhub_pooling.study import handles, saved_model_proto, text_sources

v1 = tf.compat.v1
HELLO = ["--text", "Hello there."]


# --- what a file was opened: Python's own audit events ----------------------------------------

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, bytes)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


class opened_files:
    """Every file Python opens inside the block (vocabs.read, json, tarfile: the tool's own reads)."""

    def __enter__(self) -> list[str]:
        global _OPENED
        _OPENED = []
        return _OPENED

    def __exit__(self, *exc) -> None:
        global _OPENED
        _OPENED = None


# --- 1. the vocab a module records stays inside it --------------------------------------------

def _with_recorded_vocab(src, dest, filename: str) -> str:
    """A copy of a module whose every asset record names `filename` instead."""
    copy = shutil.copytree(src, dest)
    proto = saved_model_proto.read(str(copy))
    for graph in proto.meta_graphs:
        for asset in graph.asset_file_def:
            asset.filename = filename
        collection = graph.collection_def.get(v1.saved_model.ASSETS_KEY)
        if collection is not None:
            for packed in collection.any_list.value:
                asset = saved_model_proto.meta_graph_pb2.AssetFileDef()
                packed.Unpack(asset)
                asset.filename = filename
                packed.Pack(asset)
    (copy / "saved_model.pb").write_bytes(proto.SerializeToString())
    return str(copy)


@pytest.fixture(scope="module")
def tf2_module(tmp_path_factory, small_hf_dir):
    return build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path_factory.mktemp("tf2") / "m"),
                              TF2_DICT)


@pytest.mark.parametrize("fmt", ["tf1", "tf2"])
@pytest.mark.parametrize("record", ["../../outside/vocab.txt", "ABSOLUTE", "../../../../../../../etc/passwd"])
def test_a_recorded_vocab_that_leads_out_is_refused_unopened(fmt, record, tmp_path, small_module_path,
                                                             tf2_module, minilm_dir):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(minilm_dir / "vocab.txt", outside / "vocab.txt")     # a valid vocab: it would verify
    record = str(outside / "vocab.txt") if record == "ABSOLUTE" else record
    module = _with_recorded_vocab(small_module_path if fmt == "tf1" else tf2_module,
                                  tmp_path / "deep" / "m", record)
    with opened_files() as opened, pytest.raises(InterfaceError, match="not opened") as e:
        api.load(module)
    assert e.value.exit_code == 5 and repr(record) in str(e.value)
    assert not [f for f in opened if f.endswith(("vocab.txt", "passwd"))], opened


def test_a_vocab_link_that_leads_out_is_followed_and_said(tmp_path, small_module_path, minilm_dir, capsys):
    """Symlinked caches are legitimate; the report says where the vocab really is."""
    copy = shutil.copytree(small_module_path, tmp_path / "m")
    shared = tmp_path / "shared-vocab.txt"
    shutil.copy(minilm_dir / "vocab.txt", shared)
    os.remove(copy / "assets" / "vocab.txt")
    os.symlink(shared, copy / "assets" / "vocab.txt")
    r = api.verify(str(copy), texts=["Hello there."])
    assert r.ok and r.module.vocab_source.link_to == str(shared)
    assert cli.main(["verify", "--handle", str(copy), *HELLO]) == 0
    assert f"through a link to {shared}" in capsys.readouterr().out


def test_the_exporters_baked_in_path_is_never_read(tmp_path, small_module_path, minilm_dir):
    """A TF1 module written by other code: an absolute path in the graph, no asset record, no assets/."""
    copy = shutil.copytree(small_module_path, tmp_path / "m")
    shutil.rmtree(copy / "assets")
    proto = saved_model_proto.read(str(copy))
    outside = str(minilm_dir / "vocab.txt")
    for graph in proto.meta_graphs:
        records = saved_model_proto.asset_records(graph)
        del graph.collection_def[v1.saved_model.ASSETS_KEY]
        for node in graph.graph_def.node:
            if node.name + ":0" in records:
                node.attr["value"].tensor.string_val[0] = outside.encode()
    (copy / "saved_model.pb").write_bytes(proto.SerializeToString())
    with opened_files() as opened, pytest.raises(InterfaceError, match="carries no vocab") as e:
        api.load(str(copy))
    assert repr(outside) in str(e.value) and outside not in opened


def test_a_recorded_path_is_checked_without_touching_the_disk():
    with pytest.raises(InterfaceError, match="leads out"):
        untrusted.inside("/m/assets", "a/../../b", "x", InterfaceError)
    with pytest.raises(InterfaceError, match="not a path inside"):
        untrusted.inside("/m/assets", "/etc/passwd", "x", InterfaceError)
    assert untrusted.inside("/m/assets", "sub/../vocab.txt", "x", InterfaceError).path == "/m/assets/vocab.txt"


# --- 2. outputs that are not regular files are written through, or refused; never replaced -----

def test_save_arrays_onto_a_character_device_writes_through(tmp_path, default_module_path):
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))        # what /dev/null is
    assert cli.main(["verify", *HELLO, "--save-arrays", str(node), "--plot", str(tmp_path / "p.png")]) == 0
    assert stat.S_ISCHR(os.stat(node).st_mode)


def test_plot_into_a_fifo_is_written_through_to_its_reader(tmp_path, default_module_path):
    fifo = tmp_path / "plot.png"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    assert cli.main(["verify", *HELLO, "--plot", str(fifo)]) == 0
    reader.join(timeout=60)
    assert got and got[0].startswith(b"\x89PNG") and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_fifo_nobody_reads_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "out.npz"
    os.mkfifo(fifo)
    from tfhub_pooling import atomic
    with pytest.raises(UsageError, match="nobody is reading"):
        atomic.write_file(str(fifo), lambda f: f.write(b"x"))
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_to_a_file_keeps_the_link(tmp_path, default_module_path):
    target = tmp_path / "real.npz"
    target.write_bytes(b"old")
    link = tmp_path / "link.npz"
    os.symlink(target, link)
    assert cli.main(["verify", *HELLO, "--save-arrays", str(link)]) == 0
    assert os.path.islink(link) and set(np.load(target)) >= {"pooled_output", "rebuilt"}


@pytest.mark.parametrize("make, fragment", [
    (lambda d: str(d) + "/out.npz/", "names a directory"),
    (lambda d: str(d / ("n" * 256)), "longer than the 255 bytes"),
    (lambda d: (os.symlink(d / "gone", d / "dangling.npz"), str(d / "dangling.npz"))[1], "which does not exist"),
])
def test_outputs_are_refused_before_the_work(make, fragment, tmp_path, capsys):
    """The handle does not exist: refusing the output first shows no work was done."""
    fails(capsys, ["verify", "--handle", str(tmp_path / "nope"), "--save-arrays", make(tmp_path)], 2, fragment)


def test_a_name_of_the_longest_length_is_written(tmp_path, default_module_path):
    out = tmp_path / ("n" * 251 + ".npz")
    assert cli.main(["verify", *HELLO, "--save-arrays", str(out)]) == 0 and out.is_file()


def test_a_dangling_symlink_build_destination_is_refused_before_the_build(tmp_path, capsys):
    os.symlink(tmp_path / "gone", tmp_path / "dest")
    fails(capsys, ["build", str(tmp_path / "dest"), "--random", "--hidden", "1000000"], 2, "which does not exist")


# --- 3. standard streams -----------------------------------------------------------------------

def _shell(command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, timeout=300, **kwargs)


CMD = f"'{sys.executable}' -m tfhub_pooling verify --text 'Hello there.'"


def test_stdout_on_a_full_device(default_module_path):
    proc = _shell(f"{CMD} > /dev/full", text=True)
    assert proc.returncode == 7
    assert proc.stderr.strip().splitlines() == ["error: no space left on the device while writing "
                                                "standard output; free some, or choose a place on another disk"]


def test_stdout_closed():
    proc = _shell(f"{CMD} >&-", text=True)
    assert proc.returncode == 7 and "standard output is closed" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_stderr_closed_still_verifies(default_module_path):
    proc = _shell(f"{CMD} 2>&-", text=True)
    assert proc.returncode == 0 and "MATCHES_POOLER" in proc.stdout


def test_texts_from_a_closed_stdin(default_module_path):
    proc = _shell(f"'{sys.executable}' -m tfhub_pooling verify --texts-file - 0<&-", text=True)
    assert proc.returncode == 2 and "standard input is closed" in proc.stderr


@pytest.mark.parametrize("option", ["--text", "--handle"])
def test_arguments_that_are_not_utf8(option, default_module_path):
    proc = subprocess.run([sys.executable, "-m", "tfhub_pooling", "verify", option, b"caf\xe9 ok"],
                          cwd=ROOT, capture_output=True, timeout=300, text=True)
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "UTF-8" in err[0] and "internal error" not in err[0]


# --- 4. sizes, checked before memory is spent --------------------------------------------------

def test_an_endless_line_is_refused(tmp_path, capsys):
    with pytest.raises(UsageError, match="line 1 is longer than 1 MiB"):
        list(text_sources.iter_texts_file("/dev/zero"))
    f = tmp_path / "one-line.txt"
    f.write_bytes(b"word " * 400_000)
    with pytest.raises(UsageError, match="line 1 is longer"):
        list(text_sources.iter_texts_file(str(f)))


def test_a_huge_vocab_is_refused_before_it_is_read(tmp_path):
    f = tmp_path / "vocab.txt"
    with open(f, "wb") as out:
        out.truncate(1 << 30)                          # 1 GiB, sparse: costs no disk
    with pytest.raises(UsageError, match="1,024 MiB, more than the 64 MiB"):
        vocabs.read(str(f))


def test_a_huge_saved_model_pb_is_refused_before_it_is_read(tmp_path, small_module_path, capsys):
    copy = shutil.copytree(small_module_path, tmp_path / "m")
    with open(copy / "saved_model.pb", "r+b") as out:
        out.truncate(2200 << 20)
    fails(capsys, ["verify", "--handle", str(copy)], 4, "the SavedModel graph")


def test_build_sizes_past_memory_are_refused(tmp_path, capsys):
    fails(capsys, ["build", str(tmp_path / "m"), "--random", "--hidden", "1000000", "--heads", "1"], 2,
          "GiB for its weights alone")
    assert not os.path.exists(tmp_path / "m")


# --- 5. damaged vocabs -------------------------------------------------------------------------

@pytest.mark.parametrize("damage, exit_code, fragment", [
    (lambda lines: lines[:5] + [lines[3]] + lines[5:], 2, "line 6 repeats '[unused2]' from line 4"),
    (lambda lines: lines[:7] + [""] + lines[7:], 2, "line 8 is empty"),
    (lambda lines: lines + [f"extra{i}" for i in range(10)], 5, "30532 entries, and the module's "
                                                                "word-embedding table has 30522 rows"),
])
def test_damaged_vocabs_name_the_line_or_the_count(damage, exit_code, fragment, tmp_path, small_module_path,
                                                   capsys):
    copy = shutil.copytree(small_module_path, tmp_path / "m")
    vocab = copy / "assets" / "vocab.txt"
    vocab.write_text("\n".join(damage(vocab.read_text(encoding="utf-8").splitlines())) + "\n",
                     encoding="utf-8")
    fails(capsys, ["verify", "--handle", str(copy)], exit_code, fragment)


# --- 6. almost-BERT SavedModels ----------------------------------------------------------------

def _tf1_module(path, pooled_dtype=tf.float32, info: dict | None = None) -> str:
    """A TF1 Hub-format module with `tokens` and `tokenization_info`; its vocab asset recorded."""
    path = path / "src"
    path.mkdir()
    (path / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n", encoding="utf-8")
    with tf.Graph().as_default():
        ins = {k: v1.placeholder(tf.int32, [None, None], name=k) for k in ("input_ids", "input_mask", "segment_ids")}
        x = v1.get_variable("x", shape=[], initializer=v1.ones_initializer())
        sequence = tf.cast(ins["input_ids"], tf.float32)[:, :, None] * x
        pooled = sequence[:, 0, :]
        pooled = tf.strings.as_string(pooled) if pooled_dtype == tf.string else pooled
        vocab = tf.constant(str(path / "vocab.txt"), name="vocab_file")
        v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, vocab)
        info = {"vocab_file": vocab, "do_lower_case": tf.constant(True)} if info is None else info(vocab)
        build = v1.saved_model.signature_def_utils.build_signature_def
        tensor = v1.saved_model.utils.build_tensor_info
        defs = {"tokens": build({k: tensor(v) for k, v in ins.items()},
                                {"pooled_output": tensor(pooled), "sequence_output": tensor(sequence)}),
                "tokenization_info": build({}, {k: tensor(v) for k, v in info.items()})}
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            b = v1.saved_model.Builder(str(path / "m"))
            b.add_meta_graph_and_variables(sess, tags=[], signature_def_map=defs,
                                           assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS))
            b.save()
    (path / "m" / "tfhub_module.pb").write_bytes(b"\x08\x03")
    return str(path / "m")


class _Encoder(tf.Module):
    """A TF2 SavedModel whose __call__ has the given input signature and returns `make(ids)`."""

    def __init__(self, signature, make):
        super().__init__()
        self.x = tf.Variable(1.0)
        self.__call__ = tf.function(lambda inputs: make(self, inputs), input_signature=[signature])


def _ids(inputs):
    first = inputs["input_word_ids"] if isinstance(inputs, dict) else inputs[0]
    return tf.cast(first, tf.float32)[:, :, None]


DICT_IN = {k: tf.TensorSpec([None, None], tf.int32, k) for k in ("input_word_ids", "input_mask", "input_type_ids")}
LIST_IN = [tf.TensorSpec([None, None], tf.int32)] * 3


@pytest.mark.parametrize("make, fragment", [
    (lambda tmp: _tf1_module(tmp, pooled_dtype=tf.string), "returns a dict of pooled_output (string)"),
    (lambda tmp: _tf1_module(tmp, info=lambda vocab: {"vocab_file": vocab}),
     "gives do_lower_case (missing)"),
    (lambda tmp: _tf1_module(tmp, info=lambda vocab: {"vocab_file": tf.constant(3),
                                                      "do_lower_case": tf.constant(True)}),
     "gives vocab_file (int32)"),
    (lambda tmp: _saved(tmp, _Encoder(DICT_IN, lambda m, i: _ids(i)[:, 0, :] * m.x)),
     "returns one float32 tensor"),
    (lambda tmp: _saved(tmp, _Encoder(LIST_IN, lambda m, i: {"pooled_output": _ids(i)[:, 0, :] * m.x,
                                                             "sequence_output": _ids(i) * m.x})),
     "returns a dict of pooled_output (float32), sequence_output (float32), where a BERT encoder "
     "returns a list of [pooled_output, sequence_output]"),
    (lambda tmp: _saved(tmp, _Encoder([tf.TensorSpec([None, None], tf.float32)] * 3,
                                      lambda m, i: [i[0][:, 0:1] * m.x, i[0][:, :, None] * m.x])),
     "takes 0 (float32), 1 (float32), 2 (float32)"),
])
def test_almost_bert_saved_models_say_what_they_are(make, fragment, tmp_path, capsys):
    fails(capsys, ["verify", "--handle", make(tmp_path)], 5, fragment)


def _saved(tmp, module) -> str:
    tf.saved_model.save(module, str(tmp / "m"))
    return str(tmp / "m")


# --- 7. KerasHub presets -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_preset(tmp_path_factory, small_hf_dir):
    return build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path_factory.mktemp("kh") / "p"),
                              KERAS_HUB)


def _edit_json(path, edit) -> None:
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))


def _sizes(**changes):
    return lambda c: c | {"config": c["config"] | changes}


@pytest.mark.parametrize("damage, code, fragment", [
    (lambda p: (p / "tokenizer.json").write_text("{not json"), 4, "tokenizer.json could not be loaded"),
    (lambda p: (p / "tokenizer.json").write_text("[]"), 4, "tokenizer.json could not be loaded"),
    (lambda p: os.remove(p / "tokenizer.json"), 4, "tokenizer.json could not be loaded"),
    (lambda p: _edit_json(p / "tokenizer.json", lambda c: c | {"module": "os", "class_name": "system",
                                                               "registered_name": "system"}),
     4, "tokenizer.json could not be loaded"),
    (lambda p: _edit_json(p / "config.json", _sizes(num_heads=0)), 4, "num_heads 0"),
    (lambda p: _edit_json(p / "config.json", _sizes(hidden_dim=10**9, num_heads=1)), 4,
     "GiB for its weights alone"),
    (lambda p: (p / "config.json").write_text("[" * 200_000 + "]" * 200_000), 4, "none of"),
])
def test_damaged_presets_are_one_line(damage, code, fragment, tmp_path, small_preset, capsys):
    copy = shutil.copytree(small_preset, tmp_path / "p")
    damage(copy)
    fails(capsys, ["verify", "--handle", str(copy)], code, fragment)
    fails(capsys, ["inspect", str(copy)], code, fragment)


def test_a_preset_saved_by_keras_nlp_is_read(tmp_path, small_preset):
    """keras-nlp named its classes `keras_nlp>…`; keras_hub still loads them."""
    copy = shutil.copytree(small_preset, tmp_path / "p")
    for name in ("config.json", "tokenizer.json"):
        text = (copy / name).read_text()
        (copy / name).write_text(text.replace('"keras_hub>', '"keras_nlp>'))
    assert api.verify(str(copy), texts=["Hello there."]).ok


# --- 8. deep JSON ------------------------------------------------------------------------------

def test_deep_json_beside_a_module_and_in_a_checkpoint(tmp_path, small_module_path, small_hf_dir, capsys):
    deep = "[" * 200_000 + "]" * 200_000
    copy = shutil.copytree(small_module_path, tmp_path / "m")
    (copy / "config.json").write_text(deep)                 # not a preset's: the module still verifies
    assert cli.main(["verify", "--handle", str(copy), *HELLO]) == 0
    capsys.readouterr()
    checkpoint = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "ckpt"), "google-research-checkpoint")
    with open(os.path.join(checkpoint, "bert_config.json"), "w") as f:
        f.write(deep)
    fails(capsys, ["verify", "--handle", checkpoint], 2, "nests deeper than 64 levels")


# --- 9. archives and caches --------------------------------------------------------------------

def test_an_archive_without_directory_entries(tmp_path, small_module_path):
    """What `tar czf m.tgz $(find . -type f)` makes."""
    archive = tmp_path / "files-only.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for directory, _, files in os.walk(small_module_path):
            for name in files:
                path = os.path.join(directory, name)
                tar.add(path, arcname=os.path.relpath(path, small_module_path), recursive=False)
    assert api.verify(str(archive), texts=["Hello there."]).ok


def test_a_huge_member_is_refused_before_unpacking(tmp_path, capsys):
    archive = tmp_path / "huge.tar"
    info = tarfile.TarInfo("variables/variables.data-00000-of-00001")
    info.size = 10 << 30
    archive.write_bytes(info.tobuf())                        # the header alone: nothing is unpacked
    fails(capsys, ["verify", "--handle", str(archive)], 4, "would unpack to more than 8 GiB")


def test_a_full_cache_during_an_unpack_names_the_variable(tmp_path, monkeypatch, small_module_path, capsys):
    archive = tmp_path / "m.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(small_module_path, arcname=".")
    with small_filesystem(tmp_path / "small", "2m") as small:
        monkeypatch.setenv("TFHUB_CACHE_DIR", str(small))
        fails(capsys, ["verify", "--handle", str(archive)], 7, "TFHUB_CACHE_DIR=")


def test_temp_directories_of_a_killed_unpack_are_cleaned(tmp_path, monkeypatch, small_module_path):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    archive = tmp_path / "m.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(small_module_path, arcname=".")
    module_dir = handles.archive_module_dir(str(archive))
    os.makedirs(f"{module_dir}.0123abcd.tmp/variables")          # what kill -9 mid-unpack leaves
    api.load(str(archive))
    assert not os.path.exists(f"{module_dir}.0123abcd.tmp")


def test_a_lock_held_by_a_live_process_that_is_not_downloading(tmp_path, monkeypatch, small_module_path, capsys):
    """Its pid is alive (this test's own), but its temp directory is not there: no download holds it."""
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
    archive = tmp_path / "m.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(small_module_path, arcname=".")
    lock = handles.archive_module_dir(str(archive)) + ".lock"
    os.makedirs(os.path.dirname(lock))
    with open(lock, "w") as f:
        f.write(f"{__import__('socket').gethostname()}.{os.getpid()}.feedface")
    old = time.time() - 3600
    os.utime(lock, (old, old))
    assert api.load(str(archive)).facts.format == "tf1-hub"
    assert "which is not downloading it" in capsys.readouterr().err


# --- 10. SIGTERM, as CI timeouts send it, and Ctrl-C ------------------------------------------

def _main_thread_waits_on_the_pipe(pid: int) -> bool:
    with open(f"/proc/{pid}/wchan") as f:
        where = f.read()
    return "pipe_read" in where or "pipe_wait" in where     # anon_pipe_read since Linux 6.x


@pytest.mark.parametrize("sig, code, line", [(signal.SIGTERM, 143, "error: terminated (SIGTERM)"),
                                             (signal.SIGINT, 130, "error: interrupted")])
def test_a_signal_during_a_corpus_run_reports_the_figures_so_far(sig, code, line, tmp_path, default_module_path):
    """Deterministic: the texts come through a FIFO, and the signal is sent once the tool has
    read the first chunk whole and waits for more, so that chunk's batches are folded."""
    fifo = tmp_path / "texts"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-m", "tfhub_pooling", "verify", "--texts-file", str(fifo)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert "waiting for a writer" in proc.stderr.readline()
    with open(fifo, "wb") as writer:
        writer.write(b"A sentence of a few words to run.\n" * (2048 + 1))
        writer.flush()
        pending = bytearray(4)
        while fcntl.ioctl(writer, termios.FIONREAD, pending) == 0 and int.from_bytes(pending, "little"):
            time.sleep(0.05)
        deadline = time.monotonic() + 120
        while not _main_thread_waits_on_the_pipe(proc.pid):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == code
    assert "interrupted after" in out and "pooled vs rebuilt" in out
    assert err.strip().splitlines() == [line]


# --- 11. smaller ones --------------------------------------------------------------------------

def test_argparse_refusals_are_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["verify", "--max-seq-length", "x"])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err) == 1
    assert err[0].startswith("error: argument --max-seq-length") and "--help" in err[0]


def test_a_bad_fetch_deadline_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("TFHUB_POOLING_FETCH_DEADLINE", "abc")
    fails(capsys, ["verify", "--handle", "https://tfhub.dev/google/x/1"], 2,
          "TFHUB_POOLING_FETCH_DEADLINE='abc' is not a number of seconds")


def test_a_read_only_home_keeps_matplotlib_quiet(tmp_path, default_module_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    with small_filesystem(tmp_path / "home", "1m", read_only=True) as home:
        proc = subprocess.run([sys.executable, "-m", "tfhub_pooling", "verify", *HELLO, "--plot",
                               str(tmp_path / "p.png")], cwd=ROOT, capture_output=True, text=True,
                              timeout=300, env=env | {"HOME": str(home)})
    assert proc.returncode == 0 and proc.stderr == f"wrote {tmp_path / 'p.png'}\n"      # and nothing of matplotlib's


def test_the_sweep_reads_nothing_outside_a_module_that_verifies(tmp_path, small_module_path):
    """The ordinary case, watched: a module's own files, and nothing else of the disk."""
    copy = shutil.copytree(small_module_path, tmp_path / "m")
    with opened_files() as opened:
        assert api.verify(str(copy), texts=["Hello there."]).ok
    ours = [f for f in opened if f.startswith(str(tmp_path))]
    assert ours and all(f.startswith(str(copy)) for f in ours)
