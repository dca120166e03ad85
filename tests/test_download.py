"""The question's own path: a module fetched from a URL, as tfhub.dev serves it.

A loopback stand-in for tfhub.dev answers as it does: `HANDLE?tf-hub-format=compressed`,
a 302 to storage, the `.tar.gz`; and, on other paths, the answers users meet instead: 403,
404, a sign-in page, a truncated archive, members that leave the module or are links, and
an archive whose one member declares 9 GiB. tensorflow_hub resolves every URL; the tool's
own resolver (handles.CheckedHttpResolver) unpacks with each member checked first.
"""

from __future__ import annotations

import collections
import fcntl
import http.server
import io
import os
import pty
import re
import struct
import subprocess
import sys
import tarfile
import termios
import threading

import pytest
from test_failures import ROOT, fails

from tfhub_pooling import api
from tfhub_pooling.builder import build, sources
from tfhub_pooling.formats import PREPROCESS, TF2_DICT
from tfhub_pooling.numerics.comparison import MATCHES_POOLER


def _tar_gz(files: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for info, data in files:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def _module_tar_gz(path: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        tar.add(path, arcname=".")
    return out.getvalue()


def _bomb() -> bytes:
    """A tar header declaring 9 GiB of zeros, then a little of them: what a compressed
    bomb looks like to the unpacker when its header arrives."""
    info = tarfile.TarInfo("variables/variables.data-00000-of-00001")
    info.size = 9 << 30
    return info.tobuf() + bytes(4096)


def _hostile() -> dict[str, tuple[int, dict[str, str], bytes]]:
    escape = tarfile.TarInfo("../outside.txt")
    escape.size = 2
    link = tarfile.TarInfo("saved_model.pb")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    html = b"<!DOCTYPE html><html><body>Sign in to continue</body></html>"
    return {
        "/gated/1": (403, {}, b"Forbidden"),
        "/missing/1": (404, {}, b"Not Found"),
        "/signin/1": (200, {"Content-Type": "text/html"}, html),
        "/escape/1": (200, {}, _tar_gz([(escape, b"hi")])),
        "/link/1": (200, {}, _tar_gz([(link, None)])),
        "/bomb/1": (200, {}, _bomb()),
    }


class StandIn:
    """tfhub.dev on 127.0.0.1: routes -> (status, headers, body); /storage/ holds archives
    the compressed-format query redirects to. Counts the GETs of each path."""

    def __init__(self):
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.gets: collections.Counter[str] = collections.Counter()
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path, _, query = self.path.partition("?")
                stand_in.gets[path] += 1
                if path.startswith("/storage/"):
                    status, headers, body = stand_in.routes[path]
                elif query == "tf-hub-format=compressed" and f"/storage{path}.tar.gz" in stand_in.routes:
                    status, headers, body = 302, {"Location": f"/storage{path}.tar.gz"}, b""
                elif query == "tf-hub-format=compressed" and path in stand_in.routes:
                    status, headers, body = stand_in.routes[path]
                else:
                    status, headers, body = 404, {}, b"Not Found"
                self.send_response(status)
                for k, v in ({"Content-Length": str(len(body))} | headers).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, handle_path: str, archive: bytes) -> str:
        self.routes[f"/storage{handle_path}.tar.gz"] = (200, {}, archive)
        return self.url + handle_path


@pytest.fixture(scope="module")
def stand_in():
    server = StandIn()
    server.routes |= _hostile()
    yield server
    server.server.shutdown()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub-cache"))
    return tmp_path / "tfhub-cache"


def _left_in(cache) -> list[str]:
    return sorted(os.listdir(cache)) if cache.exists() else []


def test_a_module_and_an_encoder_with_its_preprocessing_verify_from_urls_with_one_download(
        stand_in, cache, small_hf_dir, small_module_path, tmp_path):
    tf1 = stand_in.publish("/google/small_bert/1", _module_tar_gz(small_module_path))
    weights = sources.from_hf_dir(small_hf_dir)
    encoder = stand_in.publish("/tensorflow/small_bert_en/4", _module_tar_gz(
        build.build_module(weights, str(tmp_path / "enc"), TF2_DICT)))
    preprocess = stand_in.publish("/tensorflow/small_bert_preprocess/3", _module_tar_gz(
        build.build_module(weights, str(tmp_path / "pre"), PREPROCESS)))
    for _ in range(2):
        assert api.verify(tf1, texts=["Hello there."]).verdict == MATCHES_POOLER
        r = api.verify(encoder, texts=["Hello there."], preprocess=preprocess)
        assert r.verdict == MATCHES_POOLER and r.module.format == TF2_DICT
    for path in ("/google/small_bert/1", "/tensorflow/small_bert_en/4", "/tensorflow/small_bert_preprocess/3"):
        assert stand_in.gets[path] == 1 and stand_in.gets[f"/storage{path}.tar.gz"] == 1, path
    assert not [e for e in _left_in(cache) if e.endswith((".lock", ".tmp"))]


def test_a_kaggle_tensorflow_url_is_fetched_as_tensorflow_hub_fetches_tfhub_dev(stand_in, cache, small_module_path):
    """Kaggle's TF models (`/models/OWNER/MODEL/tensorFlow2/VARIATION/VERSION`): the
    compressed-format query, as for tfhub.dev; Keras ones go through kagglehub."""
    url = stand_in.publish("/models/google/bert/tensorFlow2/small/1", _module_tar_gz(small_module_path))
    assert api.verify(url, texts=["Hello there."]).verdict == MATCHES_POOLER


@pytest.mark.parametrize("path, code, fragment", [
    ("/gated/1", 3, "answered 403 Forbidden; the model is gated, private or removed"),
    ("/missing/1", 3, "has no such model (404 Not Found)"),
    ("/signin/1", 4, "is no module archive: it holds an HTML or XML page"),
    ("/escape/1", 4, "unsafe member '../outside.txt', which leads out of the module"),
    ("/link/1", 4, "unsafe member 'saved_model.pb' (a symlink)"),
    ("/bomb/1", 4, "would unpack to more than 8 GiB"),
])
def test_each_hostile_answer_gets_its_own_sentence_and_leaves_nothing_in_the_cache(
        stand_in, cache, capsys, path, code, fragment):
    line = fails(capsys, ["verify", "--handle", stand_in.url + path], code, fragment)
    assert "download it where the network allows" not in line
    assert _left_in(cache) == []          # no module directory, no temp directory, no lock


def test_a_truncated_archive_is_said_to_be_one(stand_in, cache, capsys, small_module_path):
    whole = _module_tar_gz(small_module_path)
    stand_in.routes["/storage/truncated/1.tar.gz"] = (200, {}, whole[: len(whole) // 2])
    fails(capsys, ["verify", "--handle", stand_in.url + "/truncated/1"], 4, "a truncated download?")
    assert _left_in(cache) == []


def test_tfhub_dev_403s_point_to_kaggle():
    from tfhub_pooling.study import handles
    line = handles.http_refusal("https://tfhub.dev/google/bert_uncased_L-12_H-768_A-12/1", 403, "Forbidden")
    assert "https://www.kaggle.com/models" in line and "sign in" in line


def test_progress_on_a_terminal_and_one_line_on_a_pipe(stand_in, tmp_path, small_module_path):
    url = stand_in.publish("/google/progress/1", _module_tar_gz(small_module_path))
    env = dict(os.environ, TFHUB_CACHE_DIR=str(tmp_path / "tty-cache"))
    command = [sys.executable, "-m", "tfhub_pooling", "inspect", url]
    leader, follower = pty.openpty()
    # A terminal of 80 columns, as a real one has (a new pty is 0 by 0, where tqdm draws nothing).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    chunks: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:      # EIO: the child closed the terminal
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    assert proc.wait(timeout=300) == 0
    reader.join(timeout=30)
    os.close(leader)
    seen = b"".join(chunks)
    # The bar names the URL and the size the server declared (7.3 MiB, in tqdm's 1024-based M).
    assert b"fetching " + url.encode() in seen and re.search(rb"/\d+\.\d+M ", seen), seen
    env["TFHUB_CACHE_DIR"] = str(tmp_path / "pipe-cache")
    piped = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0
    assert [line for line in piped.stderr.splitlines() if line.strip()] == [
        line for line in piped.stderr.splitlines() if line.startswith(f"fetched {url}: ")]
    assert piped.stderr.count("fetched ") == 1
