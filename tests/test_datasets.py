"""Tests of embedforge.datasets: registry, mirror lookup, checksummed download.

Downloads are tested against a local HTTP server on 127.0.0.1; no test
touches the network.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedforge import datasets
from embedforge.datasets import DatasetInfo, dataset_info, fetch, list_datasets, resolve_path
from embedforge.errors import DatasetError, InvalidParameterError

EXPECTED_NAMES = {
    "text8",
    "text8_prefix",
    "enwiki2015",
    "enwiki2015_text8size",
    "google_analogy",
    "wordsim353",
    "simlex999",
    "men",
    "scifact",
    "stsb",
    "lee_corpus",
    "cora",
    "blogcatalog",
    "movielens_100k",
    "mnist_test",
    "weat",
}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


class _Server:
    """A static file server on 127.0.0.1 serving ``root``; ``stop()`` closes it for good."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()
            self.running = False


@pytest.fixture
def server(tmp_path: Path) -> Iterator[_Server]:
    root = tmp_path / "served"
    root.mkdir()
    srv = _Server(root)
    srv.root = root
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("EMBEDFORGE_CACHE_DIR", str(cache))
    monkeypatch.delenv("EMBEDFORGE_DATA_DIR", raising=False)
    return cache


def _register(monkeypatch: pytest.MonkeyPatch, **fields) -> DatasetInfo:
    values = {
        "name": "tiny",
        "description": "a test file",
        "folder": "tiny",
        "filename": "tiny.txt",
        "url": None,
        "known_hash": None,
        "source": "tests",
        "license": "CC0",
        "citation": "none",
    }
    values.update(fields)
    info = DatasetInfo(**values)
    monkeypatch.setitem(datasets._REGISTRY, info.name, info)
    return info


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/tiny.txt"


def _files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


# --------------------------------------------------------------------------- registry


def test_registry_lists_every_data_set():
    infos = list_datasets()
    assert {info.name for info in infos} == EXPECTED_NAMES
    for info in infos:
        assert info.description and info.source and info.license and info.citation
        assert info.files == (f"{info.folder}/{info.filename}",)
        if info.url is not None:
            assert info.known_hash is not None and info.known_hash.split(":")[0] in {
                "sha256",
                "sha1",
            }


def test_mirror_only_entries_and_max_lines():
    for name in ("text8_prefix", "enwiki2015", "enwiki2015_text8size"):
        assert dataset_info(name).mirror_only
    assert not dataset_info("text8").mirror_only
    assert dataset_info("text8").archive == "zip"
    small, full = dataset_info("enwiki2015_text8size"), dataset_info("enwiki2015")
    assert small.max_lines == 6381 and full.max_lines is None
    assert small.files == full.files == ("enwiki2015_text8style/enwiki2015_25M.txt.gz",)


def test_unknown_name_raises_and_lists_names():
    with pytest.raises(InvalidParameterError, match="registered data sets: .*wordsim353"):
        fetch("wordsim999")


# --------------------------------------------------------------------------- mirror


def test_mirror_file_is_used_without_download(tmp_path, cache_dir, monkeypatch):
    _register(monkeypatch, url=_closed_port_url(), known_hash=_sha256(b"other"))
    mirror = tmp_path / "mirror"
    (mirror / "tiny").mkdir(parents=True)
    (mirror / "tiny" / "tiny.txt").write_bytes(b"mirrored\n")
    assert fetch("tiny", data_dir=mirror) == mirror / "tiny" / "tiny.txt"
    monkeypatch.setenv("EMBEDFORGE_DATA_DIR", str(mirror))
    assert fetch("tiny").read_bytes() == b"mirrored\n"
    assert _files_under(cache_dir) == []


def test_missing_mirror_only_data_set_says_where_to_put_it(tmp_path, cache_dir):
    with pytest.raises(DatasetError) as info:
        fetch("enwiki2015", data_dir=tmp_path)
    message = str(info.value)
    assert "enwiki2015_text8style/" in message and "enwiki2015_25M.txt.gz" in message
    assert "EMBEDFORGE_DATA_DIR" in message
    with pytest.raises(DatasetError, match="neither data_dir nor EMBEDFORGE_DATA_DIR is set"):
        fetch("text8_prefix")


# --------------------------------------------------------------------------- download


def test_download_is_verified_cached_and_reused(server, cache_dir, monkeypatch):
    payload = b"love\tsex\t6.77\n" * 100
    (server.root / "tiny.txt").write_bytes(payload)
    _register(monkeypatch, url=server.url("tiny.txt"), known_hash=_sha256(payload))

    path = fetch("tiny", progress=False)
    assert path == cache_dir / "tiny" / "tiny.txt"
    assert path.read_bytes() == payload

    server.stop()  # a second fetch must not need the network
    assert fetch("tiny", progress=False) == path
    assert path.read_bytes() == payload
    assert _files_under(cache_dir) == [path]


def test_wrong_hash_raises_and_leaves_no_file(server, cache_dir, monkeypatch):
    (server.root / "tiny.txt").write_bytes(b"tampered\n")
    _register(monkeypatch, url=server.url("tiny.txt"), known_hash=_sha256(b"original\n"))
    with pytest.raises(DatasetError, match="does not match its registered hash"):
        fetch("tiny", progress=False)
    assert _files_under(cache_dir) == []


def test_corrupt_cached_file_is_replaced_by_a_verified_download(server, cache_dir, monkeypatch):
    payload = b"good\n"
    (server.root / "tiny.txt").write_bytes(payload)
    _register(monkeypatch, url=server.url("tiny.txt"), known_hash=_sha256(payload))
    stale = cache_dir / "tiny" / "tiny.txt"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"corrupt\n")
    assert fetch("tiny", progress=False).read_bytes() == payload


def test_zip_download_is_extracted(server, cache_dir, monkeypatch, tmp_path):
    archive = server.root / "corpus.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("corpus", " anarchism originated as a term of abuse")
    _register(
        monkeypatch,
        folder="corpus",
        filename="corpus",
        url=server.url("corpus.zip"),
        known_hash=_sha256(archive.read_bytes()),
        archive="zip",
    )
    path = fetch("tiny", progress=False)
    assert path == cache_dir / "corpus" / "corpus"
    assert path.read_text() == " anarchism originated as a term of abuse"
    server.stop()
    assert fetch("tiny", progress=False) == path


def test_unreachable_server_raises_dataset_error(cache_dir, monkeypatch):
    _register(monkeypatch, url=_closed_port_url(), known_hash=_sha256(b"x"))
    with pytest.raises(DatasetError, match="could not download data set 'tiny'"):
        fetch("tiny", progress=False)
    assert _files_under(cache_dir) == []


# --------------------------------------------------------------------------- full data


@pytest.mark.data
@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES - {"text8"}))
def test_registered_hashes_match_the_mirror(data_dir, data_file, name):
    info = dataset_info(name)
    path = data_file(info.files[0])  # skips (never downloads) when the mirror lacks it
    assert fetch(name, data_dir=data_dir) == (path.parent if info.directory else path)
    algorithm, _, expected = info.known_hash.partition(":")
    assert algorithm == "sha256"
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    assert digest.hexdigest() == expected


# --------------------------------------------------------------------------- resolve_path


def test_resolve_path_uses_an_existing_path_as_is(tmp_path, cache_dir, monkeypatch):
    _register(monkeypatch)
    file = tmp_path / "questions.txt"
    file.write_text(": s\na b c d\n")
    assert resolve_path(file, "file") == file
    assert resolve_path(str(file)) == file
    assert resolve_path(tmp_path, "directory") == tmp_path
    # an existing path wins over a registered name of the same spelling
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny").write_text("local\n")
    assert resolve_path("tiny", "file") == Path("tiny")


def test_resolve_path_fetches_a_registered_name_from_the_mirror(tmp_path, cache_dir, monkeypatch):
    _register(monkeypatch)
    mirror = tmp_path / "mirror"
    (mirror / "tiny").mkdir(parents=True)
    (mirror / "tiny" / "tiny.txt").write_bytes(b"mirrored\n")
    monkeypatch.chdir(tmp_path)  # no ./tiny here
    assert resolve_path("tiny", "file", data_dir=mirror) == mirror / "tiny" / "tiny.txt"
    monkeypatch.setenv("EMBEDFORGE_DATA_DIR", str(mirror))
    assert resolve_path("tiny").read_bytes() == b"mirrored\n"
    assert _files_under(cache_dir) == []


def test_resolve_path_errors_name_the_input_the_names_and_the_fix(tmp_path, cache_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError) as info:
        resolve_path("no-such-set", "file")
    message = str(info.value)
    assert "'no-such-set' is neither an existing file nor a registered data set" in message
    assert "pass the path of an existing file or one of the registered names" in message
    assert "google_analogy" in message and "scifact" not in message  # only file data sets
    with pytest.raises(DatasetError, match="neither an existing directory nor a registered"):
        resolve_path(tmp_path / "missing", "directory")
    # the right name or path of the wrong kind says so
    with pytest.raises(DatasetError, match=r"\(data set 'scifact' is a directory\)"):
        resolve_path("scifact", "file")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"existing directory .*\(it is a file\).*: scifact"):
        resolve_path(tmp_path / "f.txt", "directory")
    with pytest.raises(InvalidParameterError, match="expected a path or a registered data set"):
        resolve_path(42)
    with pytest.raises(InvalidParameterError, match="kind must be one of 'file'"):
        resolve_path("x", "folder")


@pytest.mark.data
def test_resolve_path_finds_real_data_sets_in_the_mirror(data_dir, data_file, monkeypatch):
    info = dataset_info("google_analogy")
    path = data_file(info.files[0])
    monkeypatch.setenv("EMBEDFORGE_DATA_DIR", str(data_dir))
    assert resolve_path("google_analogy", "file") == path
    assert resolve_path("wordsim353", "file") == data_file("wordsim353/wordsim353.tsv")
