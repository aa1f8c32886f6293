"""Fixtures of the explorer tests: real word vectors saved to a directory, a live server."""

from __future__ import annotations

import csv
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedforge import Embeddings
from embedforge.audit import read_weat_word_sets

FIXTURE = Path(__file__).parents[1] / "data" / "weat_wefe"
CLASSES = ("flowers", "insects", "instruments", "weapons", "career", "family")


@pytest.fixture(scope="session")
def words_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """Real word2vec vectors (324 WEAT words) saved as Embeddings, and a metadata CSV of classes.

    Returns ``(directory, metadata_csv, {key: class})``; keys of no class have no row.
    """
    root = tmp_path_factory.mktemp("explore")
    emb = Embeddings.load_word2vec_format(FIXTURE / "vectors.txt")
    emb.save(root / "words")
    sets = read_weat_word_sets(FIXTURE / "WEAT.json")
    label: dict[str, str] = {}
    for name in CLASSES:
        for w in sets[name]:
            if w in emb:
                label.setdefault(w, name)
    meta = root / "classes.csv"
    with meta.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["key", "class"])
        writer.writerows(sorted(label.items()))
    return root / "words", meta, label


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The explorer app served by uvicorn in a thread on a free loopback port."""

    def __init__(self, app: object) -> None:
        import uvicorn

        self.port = _free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", ws="none", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the explorer server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server() -> type[LiveServer]:
    """The class that serves an app live: ``with live_server(app) as server: server.url``."""
    return LiveServer


@pytest.fixture(scope="session")
def live_words(words_dir) -> Iterator[LiveServer]:
    from embedforge.explore import create_app

    directory, meta, _ = words_dir
    with LiveServer(create_app(directory, metadata=meta)) as server:
        yield server


@pytest.fixture(scope="session")
def collection_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A TF-IDF collection of the 40 Wikipedia articles of tests/data, titles as metadata."""
    import json

    from embedforge import Collection

    corpus = Path(__file__).parents[1] / "data" / "wiki_beir_excerpt" / "corpus.jsonl"
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    docs = [
        {
            "id": r["_id"],
            "text": r["text"],
            "metadata": {"initial": r["title"][0].upper(), "length": len(r["text"].split())},
        }
        for r in records
    ]
    path = tmp_path_factory.mktemp("explore_collection") / "wiki"
    with Collection.create(path, encoder="tfidf", fit_documents=docs) as collection:
        collection.add(docs, progress=False)
    return path
