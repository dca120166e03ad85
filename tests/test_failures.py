"""The sweep of bad and unusual inputs: each ends in one line on stderr with its
documented exit code (or works, where it should), nothing half-written, no
traceback, no C++ abort, no silent wait. One case a test, named for the input."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time

import pytest
import tensorflow as tf

from tfhub_pooling import api, cli, provision
from tfhub_pooling.builder import bert_config, build, sources
from tfhub_pooling.errors import InterfaceError
from tfhub_pooling.formats import CHECKPOINT, TF2_DICT
from tfhub_pooling.reports import words

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fails(capsys, argv: list[str], code: int, fragment: str) -> str:
    """Runs the CLI in-process; asserts the exit code and one `error:` line holding fragment."""
    assert cli.main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ") and fragment in err[0], err[0]
    assert "internal error" not in err[0]
    return err[0]


def run_cli(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tfhub_pooling", *args], cwd=ROOT, text=True,
                          capture_output=True, env=dict(os.environ, **(env or {})), timeout=300, **kwargs)


@contextlib.contextmanager
def small_filesystem(path, size: str, read_only: bool = False):
    """A tmpfs mounted at path: full after `size`, or read-only (root ignores file modes)."""
    os.makedirs(path, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                      capture_output=True).returncode != 0:
        pytest.skip("this machine does not let the suite mount a tmpfs")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _archive(src: str, dest, top: str | None = None, absolute_root: str | None = None) -> str:
    """src's files as a .tar.gz: at the top, under one folder `top`, or under an absolute path."""
    with tarfile.open(dest, "w:gz") as tar:
        if top is not None:
            tar.add(src, arcname=top)
        elif absolute_root is None:
            for name in os.listdir(src):
                tar.add(os.path.join(src, name), arcname=name)
        else:
            for directory, _, files in os.walk(src):
                for name in files:
                    path = os.path.join(directory, name)
                    info = tar.gettarinfo(path, arcname=os.path.relpath(path, src))
                    info.name = f"{absolute_root}/{info.name}"    # tarfile.add would strip the slash
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
    return str(dest)


# --- cache locations -------------------------------------------------------------------------

def test_cache_that_is_a_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "cache").write_text("not a directory")
    monkeypatch.setenv("TFHUB_POOLING_CACHE", str(tmp_path / "cache"))
    fails(capsys, ["verify"], 2, "TFHUB_POOLING_CACHE")


def test_cache_on_a_read_only_filesystem(tmp_path, monkeypatch, capsys):
    with small_filesystem(tmp_path / "ro", "1m", read_only=True) as ro:
        monkeypatch.setenv("TFHUB_POOLING_CACHE", str(ro))
        line = fails(capsys, ["verify"], 7, "cannot write")
        assert "TFHUB_POOLING_CACHE" in line


def test_cache_on_a_full_disk(tmp_path, monkeypatch, capsys):
    with small_filesystem(tmp_path / "full", "256k") as full:
        monkeypatch.setenv("TFHUB_POOLING_CACHE", str(full))
        fails(capsys, ["verify"], 7, "no space left")
        assert os.listdir(full) == []                    # nothing half-written


def test_tfhub_cache_unwritable_with_an_archive(tmp_path, monkeypatch, small_module_path, capsys):
    archive = _archive(small_module_path, tmp_path / "m.tar.gz")
    with small_filesystem(tmp_path / "ro", "1m", read_only=True) as ro:
        monkeypatch.setenv("TFHUB_CACHE_DIR", str(ro))
        fails(capsys, ["verify", "--handle", archive], 7, "TFHUB_CACHE_DIR")


def test_tfhub_cache_unwritable_with_a_url_blames_the_cache(tmp_path, monkeypatch, capsys):
    with small_filesystem(tmp_path / "ro", "1m", read_only=True) as ro:
        monkeypatch.setenv("TFHUB_CACHE_DIR", str(ro))
        line = fails(capsys, ["verify", "--handle", "https://example.invalid/m.tar.gz"], 7, "TFHUB_CACHE_DIR")
        assert "cannot fetch" not in line


# --- output paths, checked before the work starts ---------------------------------------------

@pytest.mark.parametrize("option", ["--save-arrays", "--plot"])
def test_output_that_is_a_directory(option, tmp_path, capsys):
    target = tmp_path / ("out.npz" if option == "--save-arrays" else "out.png")
    target.mkdir()
    fails(capsys, ["verify", option, str(target)], 2, "is a directory")
    assert capsys.readouterr().out == ""                 # refused before any verdict


def test_output_on_a_read_only_filesystem(tmp_path, capsys):
    with small_filesystem(tmp_path / "ro", "1m", read_only=True) as ro:
        fails(capsys, ["verify", "--plot", str(ro / "p.png")], 7, "not writable")


# --- inputs ----------------------------------------------------------------------------------

def test_tar_members_with_an_absolute_path_stay_in_the_cache(tmp_path, small_module_path, capsys):
    """As GNU tar does, the leading slash is dropped: the members unpack inside the cache."""
    outside = f"/tfhub-pooling-absolute-{os.getpid()}"
    archive = _archive(small_module_path, tmp_path / "abs.tar.gz", absolute_root=outside)
    assert cli.main(["verify", "--handle", archive, "--text", "Hello there."]) == 0
    assert not os.path.exists(outside)                   # nothing written outside the cache


def test_truncated_checkpoint(tmp_path, small_hf_dir, capsys):
    ckpt = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "ckpt"), CHECKPOINT)
    data = next(f for f in os.listdir(ckpt) if ".data-" in f)
    with open(os.path.join(ckpt, data), "r+b") as f:
        f.truncate(1000)
    fails(capsys, ["verify", "--handle", ckpt], 4, "damaged")


def test_truncated_safetensors(tmp_path, small_hf_dir, capsys):
    hf = shutil.copytree(small_hf_dir, tmp_path / "hf")
    with open(hf / "model.safetensors", "r+b") as f:
        f.truncate(5000)
    fails(capsys, ["build", str(tmp_path / "m"), "--hf-dir", str(hf)], 4, "damaged")
    assert sorted(os.listdir(tmp_path)) == ["hf"]


@pytest.mark.parametrize("config_file", ["config.json", "bert_config.json"])
def test_config_with_a_wrong_type(config_file, tmp_path, small_hf_dir, capsys):
    if config_file == "config.json":
        src = shutil.copytree(small_hf_dir, tmp_path / "src")
        argv = ["build", str(tmp_path / "m"), "--hf-dir", str(src)]
    else:
        src = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "src"), CHECKPOINT)
        argv = ["verify", "--handle", src]
    path = os.path.join(src, config_file)
    with open(path) as f:
        config = json.load(f)
    with open(path, "w") as f:
        json.dump(config | {"hidden_size": "big"}, f)
    fails(capsys, argv, 2, "hidden_size must be a positive integer")


def test_inspect_on_a_preprocessing_model(tmp_path, small_hf_dir, capsys):
    path = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "pre"), "preprocess")
    assert cli.main(["inspect", path]) == 0
    assert "format      preprocess" in capsys.readouterr().out


# --- build arguments -------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--layers", "0"], ["--hidden", "0"], ["--heads", "-1"],
                                  ["--hidden", "-64"], ["--hidden", "30", "--heads", "4"]])
def test_build_sizes_that_make_no_bert(args, tmp_path, capsys):
    try:
        code = cli.main(["build", str(tmp_path / "m"), "--random", *args])
    except SystemExit as e:      # argparse's own refusal
        code = e.code
    assert code == 2
    assert not (tmp_path / "m").exists()


def test_build_destination_under_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    fails(capsys, ["build", str(tmp_path / "file" / "m"), "--random"], 2, "is a file")


def test_the_loser_of_two_builds_into_one_destination(tmp_path, small_hf_dir, small_module_path,
                                                      monkeypatch):
    weights = sources.from_hf_dir(small_hf_dir)
    dest = tmp_path / "m"
    writer = build.WRITERS["tf1-hub"]

    def racing_writer(w, path, control):
        shutil.copytree(small_module_path, dest)          # the other process finishes first
        writer(w, path, control)

    monkeypatch.setitem(build.WRITERS, "tf1-hub", racing_writer)
    from tfhub_pooling.errors import UsageError
    with pytest.raises(UsageError, match="made by another process meanwhile"):
        build.build_module(weights, str(dest))
    assert os.listdir(tmp_path) == ["m"] and build.is_complete(str(dest))


# --- the process around it -------------------------------------------------------------------

def test_a_closed_stdout_pipe(default_module_path):
    proc = subprocess.run(f"'{sys.executable}' -m tfhub_pooling verify --json | head -c 100",
                          shell=True, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert len(proc.stdout) == 100 and proc.stderr == ""


def test_a_stdout_that_cannot_encode_the_text(default_module_path):
    proc = run_cli("verify", "--text", "Crème brûlée 北京", env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr
    assert "Cr\\xe8me" in proc.stdout


def _as_in_a_terminal() -> None:
    """Ctrl-C's default action in the child, as in a terminal. A suite started in the
    background of a non-interactive shell inherits SIGINT ignored, and Python then
    installs no KeyboardInterrupt handler at all."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# The command, with an import hook that says when `import tensorflow` starts and then waits
# there: Ctrl-C lands inside TensorFlow's import whatever the machine's speed.
_WAIT_IN_TF_IMPORT = """
import os, signal, sys
class Wait:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow":
            sys.meta_path.remove(self)
            os.write(1, b"importing tensorflow\\n")
            signal.pause()
        return None
sys.meta_path.insert(0, Wait())
sys.argv = ["tfhub-pooling", "verify", "--text", "Hi."]
from tfhub_pooling.cli import run
run()
"""


def test_ctrl_c_while_tensorflow_imports():
    proc = subprocess.Popen([sys.executable, "-c", _WAIT_IN_TF_IMPORT], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_as_in_a_terminal)
    assert proc.stdout.readline() == "importing tensorflow\n"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["error: interrupted"]


def test_a_server_that_trickles_is_given_up_on(capsys, monkeypatch):
    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(60):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.5)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("TFHUB_POOLING_FETCH_DEADLINE", "3")
    try:
        fails(capsys, ["verify", "--handle", f"http://127.0.0.1:{server.server_port}/m.tar.gz"], 3,
              "gave up after 3 s")
    finally:
        server.shutdown()


def test_a_stale_download_lock_is_cleared_and_said(tmp_path, small_module_path, capsys):
    from tfhub_pooling.study import handles
    archive = _archive(small_module_path, tmp_path / "m.tar.gz")
    lock = handles.archive_module_dir(archive) + ".lock"
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    with open(lock, "w") as f:
        f.write(f"{os.uname().nodename}.999999.0123456789abcdef")   # a process that is gone
    assert cli.main(["verify", "--handle", archive, "--text", "Hi."]) == 0
    assert "removed a stale download lock" in capsys.readouterr().err


# --- advice, texts, terminals ------------------------------------------------------------------

def test_an_encoder_without_a_vocab_verifies_with_a_preprocessing_model(tmp_path, small_hf_dir):
    weights = sources.from_hf_dir(small_hf_dir)
    encoder = build.build_module(weights, str(tmp_path / "enc"), TF2_DICT)
    pre = build.build_module(weights, str(tmp_path / "pre"), "preprocess")
    inner = tf.saved_model.load(encoder)
    root = tf.train.Checkpoint()
    root.inner, root.variables = inner, list(inner.variables)
    root.__call__ = tf.function(lambda inputs: inner(inputs), input_signature=[
        {k: tf.TensorSpec([None, None], tf.int32) for k in ("input_word_ids", "input_mask", "input_type_ids")}])
    tf.saved_model.save(root, str(tmp_path / "novocab"))
    with pytest.raises(InterfaceError, match="--preprocess"):
        api.verify(str(tmp_path / "novocab"), texts=["Hi."])
    assert api.verify(str(tmp_path / "novocab"), texts=["Hi."], preprocess=pre).ok


def test_control_characters_are_escaped_in_terminal_and_markdown(default_module_path, capsys):
    text = "red \x1b[31mALERT\x1b[0m\rover\x00written"
    for fmt in ([], ["--markdown"]):
        assert cli.main(["verify", "--text", text, "--handle", text, *fmt]) == 3   # a handle, too
        assert "\x1b" not in capsys.readouterr().err
        assert cli.main(["verify", "--text", text, *fmt]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\r" not in out and "\x00" not in out
    assert cli.main(["verify", "--text", text]) == 0
    assert "red \\x1b[31mALERT" in capsys.readouterr().out


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_plot_in_the_format_its_name_says(suffix, magic, tmp_path, default_module_path, capsys):
    out = tmp_path / f"plot{suffix}"
    assert cli.main(["verify", "--plot", str(out)]) == 0
    assert out.read_bytes().startswith(magic)


def test_texts_from_standard_input(default_module_path):
    proc = run_cli("verify", "--texts-file", "-", "--json", input="One text.\nA pair\tof two.\n")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["inputs"]["text_count"] == 2


def test_a_byte_order_mark_is_not_part_of_the_first_text(tmp_path, default_loaded):
    from tfhub_pooling.study import text_sources
    f = tmp_path / "bom.txt"
    f.write_bytes("\ufeffHello.\n".encode())
    assert list(text_sources.iter_texts_file(str(f))) == [(1, "Hello.")]


@pytest.mark.parametrize("handle, code, fragment", [
    ("", 2, "empty"),
    ("gs://no-such-bucket/module", 3, "cannot fetch"),
])
def test_handles_that_name_nothing(handle, code, fragment, capsys):
    fails(capsys, ["verify", "--handle", handle], code, fragment)


def test_a_symlink_loop(tmp_path, capsys):
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    fails(capsys, ["verify", "--handle", str(tmp_path / "a")], 3, "symlink")


@pytest.mark.parametrize("kind", ["upper-case suffix", "one top-level folder", "checkpoint"])
def test_archives_as_people_make_them(kind, tmp_path, small_module_path, small_hf_dir):
    if kind == "checkpoint":
        src = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "ckpt"), CHECKPOINT)
        archive = _archive(src, tmp_path / "uncased_L-2_H-64_A-2.tar.gz", top="uncased_L-2_H-64_A-2")
    elif kind == "one top-level folder":
        archive = _archive(small_module_path, tmp_path / "m.tar.gz", top="bert_module")
    else:
        archive = _archive(small_module_path, tmp_path / "M.TAR.GZ")
    assert api.verify(archive, texts=["Hi."]).ok


def test_damaged_variables_name_the_file(tmp_path, small_module_path, capsys):
    copy = shutil.copytree(small_module_path, tmp_path / "m")
    data = next(f for f in os.listdir(copy / "variables") if ".data-" in f)
    with open(copy / "variables" / data, "r+b") as f:
        f.truncate(100)
    fails(capsys, ["verify", "--handle", str(copy)], 4, "variables")


def test_checkpoint_casing_comes_from_its_vocab(tmp_path, small_hf_dir):
    ckpt = build.build_module(sources.from_hf_dir(small_hf_dir), str(tmp_path / "my_encased_model"), CHECKPOINT)
    assert sources.from_checkpoint(ckpt).do_lower_case is True          # the uncased vocab says so


@pytest.mark.parametrize("damage", ["index removed", "data truncated"])
def test_a_damaged_cached_default_is_rebuilt(damage, tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_POOLING_CACHE", str(tmp_path))
    variables = os.path.join(provision.ensure_default(), "variables")
    if damage == "index removed":
        os.remove(os.path.join(variables, "variables.index"))
    else:
        data = next(f for f in os.listdir(variables) if ".data-" in f)
        with open(os.path.join(variables, data), "r+b") as f:
            f.truncate(1000)
    assert api.verify(texts=["Hi."]).ok


def test_stale_staging_of_a_killed_build_is_cleaned(tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_POOLING_CACHE", str(tmp_path))
    stale = tmp_path / f".{provision.default_path().name}.building-999999-abcd"
    stale.mkdir()
    provision.ensure_default()
    assert os.listdir(tmp_path) == [provision.default_path().name]


def test_saturation_is_said(tmp_path, small_hf_dir):
    weights = sources.from_hf_dir(small_hf_dir)
    weights.params[bert_config.POOLER_KERNEL] = weights.params[bert_config.POOLER_KERNEL] * 1000
    r = api.verify(build.build_module(weights, str(tmp_path / "sat")), texts=["Hello there."])
    assert r.ok and r.comparison.saturated > 0.9
    assert [f.measured for f in r.comparison.findings if f.check == "saturation"] == [r.comparison.saturated]
    assert "the check is weak there" in words.reason(r.comparison)
