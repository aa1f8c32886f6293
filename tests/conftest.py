"""Shared pytest fixtures, and the CI rule that a quality check cannot silently turn itself off.

Strict mode (``CI`` set to anything but ``""``, ``0`` or ``false``, or ``EMBEDFORGE_DATA_DIR``
set and non-empty): a test marked ``data`` that would skip (data directory or file missing)
fails with the reason, and so does any ``pytest.importorskip`` that finds its module missing
(a dev dependency such as gensim, fasttext, sentence-transformers, httpx or fastapi: ``pip
install -e ".[dev]"`` installs them all).  Outside strict mode they skip, so that a fresh clone
without the data sets still runs ``make test``.  Every run ends with one line counting the data
tests that ran and passed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TEST_DATA = Path(__file__).parent / "data"

# pytest.importorskip's skip message starts with this (pytest 7 to 9)
_IMPORTORSKIP_PREFIX = "could not import "


def strict_mode() -> bool:
    """True in CI (``CI`` set) or wherever the data sets are configured (``EMBEDFORGE_DATA_DIR``)."""
    ci = os.environ.get("CI", "").strip().lower()
    return ci not in ("", "0", "false", "no") or bool(os.environ.get("EMBEDFORGE_DATA_DIR"))


def _skip_or_fail(reason: str) -> None:
    """Skip the test, or fail it in strict mode: a quality check must not vanish silently."""
    if strict_mode():
        pytest.fail(f"{reason} (a skip is a failure when CI or EMBEDFORGE_DATA_DIR is set)")
    pytest.skip(reason)


def _skip_reason(longrepr: object) -> str:
    """The reason of a skip report (``longrepr`` is ``(path, lineno, "Skipped: reason")``)."""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _strict_failure(reason: str) -> str:
    return (
        f"{reason}\n(strict mode: CI or EMBEDFORGE_DATA_DIR is set, so this skip is a failure; "
        'install the dev dependencies with `pip install -e ".[dev]"` and set '
        "EMBEDFORGE_DATA_DIR to the data sets)"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """In strict mode, a skipped data test or a failed ``importorskip`` becomes a failure."""
    report = yield
    expected_failure = hasattr(report, "wasxfail")  # an xfail reports as skipped: keep it
    if report.skipped and call.excinfo is not None and not expected_failure and strict_mode():
        reason = _skip_reason(report.longrepr)
        is_data = item.get_closest_marker("data") is not None
        if is_data or reason.startswith(_IMPORTORSKIP_PREFIX):
            report.outcome = "failed"
            report.longrepr = _strict_failure(reason)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """In strict mode, a module-level ``importorskip`` that skips a whole file is a failure."""
    report = yield
    if report.skipped and strict_mode():
        reason = _skip_reason(report.longrepr)
        if reason.startswith(_IMPORTORSKIP_PREFIX):
            report.outcome = "failed"
            report.longrepr = _strict_failure(reason)
    return report


class DataTally:
    """A plugin counting the tests marked ``data`` and how each ended; prints one summary line."""

    def __init__(self) -> None:
        self.nodeids: set[str] = set()
        self.outcome: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.nodeids.update(item.nodeid for item in items if item.get_closest_marker("data"))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.nodeids:
            return
        if report.failed:  # a failure in any phase (setup, call, teardown) is the outcome
            self.outcome[report.nodeid] = "failed"
        elif hasattr(report, "wasxfail"):
            self.outcome.setdefault(report.nodeid, "xfailed")
        elif report.skipped:
            self.outcome.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            self.outcome.setdefault(report.nodeid, "passed")

    def pytest_terminal_summary(self, terminalreporter) -> None:
        outcomes = list(self.outcome.values())
        count = {name: outcomes.count(name) for name in ("passed", "failed", "xfailed", "skipped")}
        ran = len(outcomes) - count["skipped"]
        xfailed = f", {count['xfailed']} xfailed" if count["xfailed"] else ""
        where = os.environ.get("EMBEDFORGE_DATA_DIR") or "not set"
        terminalreporter.write_line(
            f"data tests: {ran} ran, {count['passed']} passed, {count['failed']} failed"
            f"{xfailed}, {count['skipped']} skipped "
            f"(EMBEDFORGE_DATA_DIR {where}; strict mode {'on' if strict_mode() else 'off'})"
        )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(DataTally(), "embedforge-data-tally")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The full public data sets (``EMBEDFORGE_DATA_DIR``); skips (fails in strict mode) when absent."""
    value = os.environ.get("EMBEDFORGE_DATA_DIR")
    if not value:
        _skip_or_fail("EMBEDFORGE_DATA_DIR is not set; CI sets it to ../shared/data")
    path = Path(value)
    if not path.is_dir():
        _skip_or_fail(
            f"EMBEDFORGE_DATA_DIR={value} is not a directory; CI sets it to ../shared/data"
        )
    return path


@pytest.fixture(scope="session")
def quality_floor() -> Callable[[str, str], float]:
    """``quality_floor("w2v-sg-ns", "analogy")``: the floor a data test asserts.

    From ``tests/data/quality_floors.json``, which ``benchmarks/quality_floors.py``
    writes with the BENCHMARKS.md table "Quality floors of the data tests" (the
    mean over seeds of the same configuration minus a stated tolerance), so the
    floor a test asserts is the one in the table.
    """
    import json

    path = Path(__file__).parent / "data" / "quality_floors.json"
    floors = json.loads(path.read_text(encoding="utf-8"))["floors"]
    return lambda config, metric: float(floors[config][metric])


@pytest.fixture(scope="session")
def data_file(data_dir: Path) -> Callable[[str], Path]:
    """``data_file("men/MEN_dataset_natural_form_full")``: a mirror file; skip (strict: fail) if missing."""

    def get(relative: str) -> Path:
        path = data_dir / relative
        if not path.is_file():
            _skip_or_fail(
                f"EMBEDFORGE_DATA_DIR={data_dir} does not contain {relative}; "
                "CI sets it to ../shared/data"
            )
        return path

    return get


@pytest.fixture(scope="session")
def text8_head_keyedvectors():
    """gensim KeyedVectors trained (1 worker, fixed seed) on ``tests/data/text8_head.txt``.

    Real, small vectors for comparing our evaluation code with gensim's.
    """
    gensim_models = pytest.importorskip("gensim.models")
    tokens = (TEST_DATA / "text8_head.txt").read_text(encoding="ascii").split()
    sentences = [tokens[i : i + 1000] for i in range(0, len(tokens), 1000)]
    model = gensim_models.Word2Vec(
        sentences, vector_size=50, window=5, min_count=3, workers=1, seed=7, epochs=30
    )
    return model.wv


class EncodingCache:
    """Real encoder outputs kept on disk per text, so a data test does not pay for them twice.

    Encoding SciFact's 5,183 documents or the Dendron vault's chunks with MiniLM
    takes 5-12 minutes each on 2 cores, most of the suite's budget.  Vectors are
    kept in ``$EMBEDFORGE_TEST_CACHE`` (default ``~/.cache/embedforge/test-encodings``),
    one file per encoder identity (its spec), one row per distinct text (keyed by
    the text's SHA-256).  Cached rows are only trusted after a seeded sample of up
    to 32 of them, encoded again in this session, equals them (atol 1e-4): a change
    in the model or its wrapper still fails the test.  A new machine's first run
    encodes everything and writes the file (temporary name, then renamed).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.stores: dict[str, dict[bytes, Any]] = {}
        self.verified: set[str] = set()
        self.dirty: set[str] = set()

    @staticmethod
    def identity(encoder: Any) -> str:
        import hashlib
        import json

        try:
            from embedforge.search import encoder_spec

            spec: Any = encoder_spec(encoder)
        except Exception:  # an encoder of no recorded spec: its class names it
            spec = type(encoder).__qualname__
        raw = json.dumps(spec, sort_keys=True, default=str).encode()
        return hashlib.sha256(raw).hexdigest()[:24]

    def _store(self, ident: str) -> dict[bytes, Any]:
        import numpy as np

        if ident not in self.stores:
            store: dict[bytes, Any] = {}
            path = self.root / f"{ident}.npz"
            if path.is_file():
                with np.load(path, allow_pickle=False) as data:
                    store = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
            self.stores[ident] = store
        return self.stores[ident]

    def encode(self, encoder: Any, texts: list[str], original: Any, **kw: Any) -> Any:
        """``original(texts, **kw)`` for the texts not cached; every row from the cache."""
        import hashlib

        import numpy as np

        ident = self.identity(encoder)
        store = self._store(ident)
        keys = [hashlib.sha256(text.encode("utf-8")).digest() for text in texts]
        if ident not in self.verified:
            cached = [i for i, k in enumerate(keys) if k in store]
            if cached:
                rng = np.random.default_rng(0)
                pick = sorted(rng.choice(cached, size=min(32, len(cached)), replace=False))
                fresh = original([texts[i] for i in pick], **kw)
                stale = np.stack([store[keys[i]] for i in pick])
                assert np.allclose(fresh, stale, atol=1e-4), (
                    f"{self.root / (ident + '.npz')}: the encoder no longer reproduces its "
                    "cached vectors; delete the file to re-encode"
                )
                self.verified.add(ident)
        missing = list(dict.fromkeys(i for i, k in enumerate(keys) if k not in store))
        if missing:
            vectors = original([texts[i] for i in missing], **kw)
            for i, row in zip(missing, vectors, strict=True):
                store[keys[i]] = np.asarray(row)
            self.dirty.add(ident)
        if not texts:
            return original(texts, **kw)
        return np.stack([store[k] for k in keys])

    def save(self) -> None:
        import numpy as np

        for ident in self.dirty:
            store = self.stores[ident]
            self.root.mkdir(parents=True, exist_ok=True)
            path = self.root / f"{ident}.npz"
            tmp = path.with_name(f"{ident}.tmp{os.getpid()}.npz")
            keys = np.array(list(store), dtype="S32")
            np.savez(tmp, keys=keys, vectors=np.stack(list(store.values())))
            os.replace(tmp, path)
        self.dirty.clear()


@pytest.fixture(scope="session")
def encoding_cache() -> Iterator[EncodingCache]:
    """The session's :class:`EncodingCache`; written to disk when the session ends."""
    root = Path(
        os.environ.get("EMBEDFORGE_TEST_CACHE")
        or Path.home() / ".cache" / "embedforge" / "test-encodings"
    )
    cache = EncodingCache(root)
    yield cache
    cache.save()


@pytest.fixture
def cached_sentence_encoders(
    encoding_cache: EncodingCache, monkeypatch: pytest.MonkeyPatch
) -> EncodingCache:
    """Route every ``SentenceTransformerEncoder.encode`` of this test through the cache.

    The model still runs for every text it has not encoded before and for the
    verification sample; only repeated work is skipped.
    """
    from embedforge.search.encoders import SentenceTransformerEncoder

    original = SentenceTransformerEncoder.encode

    def encode(self: Any, texts: Any, *args: Any, **kw: Any) -> Any:
        texts = list(texts)
        return encoding_cache.encode(
            self, texts, lambda part, **k: original(self, part, *args, **k), **kw
        )

    monkeypatch.setattr(SentenceTransformerEncoder, "encode", encode)
    return encoding_cache
