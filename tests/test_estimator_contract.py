"""The estimator contract, checked on every estimator (in the spirit of scikit-learn's check_estimator).

- the constructor only stores its arguments: no validation, no work, no learned state;
  ``get_params()`` returns exactly the constructor arguments;
- ``fit`` returns ``self``; ``get_params`` / ``set_params`` round-trip, and
  ``type(m)(**m.get_params())`` builds an equal model;
- save then the class's own ``load`` is bit-exact for every array, and equal in params;
- a seeded fit (``workers=1`` where the class has workers) is bit-identical run to run;
- each invalid parameter is accepted by the constructor and rejected by ``fit`` with an
  InvalidParameterError that names it.

Data: the first 3,000 tokens of tests/data/text8_head.txt, 24 documents of
tests/data/wiki_beir_excerpt/corpus.jsonl, and small seeded random matrices.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import embedforge
from embedforge import (
    ALS,
    BPR,
    LSA,
    BinaryQuantizer,
    Cooccurrence,
    DeepWalk,
    Embeddings,
    FastText,
    GloVe,
    Graph,
    Interactions,
    InvalidParameterError,
    MeanEncoder,
    Node2Vec,
    PCAReducer,
    RandomProjection,
    ScalarQuantizer,
    SIFEncoder,
    SoftmaxSkipGram,
    TfIdf,
    Word2Vec,
    iter_documents,
)

DATA = Path(__file__).parent / "data"


# ---------------------------------------------------------------------- tiny real data


@cache
def _sentences() -> list[list[str]]:
    tokens = (DATA / "text8_head.txt").read_text(encoding="ascii").split()[:3000]
    return [tokens[i : i + 100] for i in range(0, len(tokens), 100)]


@cache
def _documents() -> list:
    docs = iter_documents(DATA / "wiki_beir_excerpt" / "corpus.jsonl")
    return [doc for doc, _ in zip(docs, range(24), strict=False)]


@cache
def _word_vectors() -> Embeddings:
    """Seeded random vectors for the 300 most frequent words of the text8 excerpt, with counts."""
    counts = Counter(t for s in _sentences() for t in s).most_common(300)
    vectors = np.random.default_rng(0).standard_normal((len(counts), 16)).astype(np.float32)
    return Embeddings([w for w, _ in counts], vectors, counts=np.array([c for _, c in counts]))


@cache
def _graph():
    """The first 600 edges of the Cora excerpt (tests/data/cora_excerpt)."""
    lines = (DATA / "cora_excerpt" / "edges.txt").read_text(encoding="utf-8").splitlines()
    pairs = [line.split()[:2] for line in lines if line and not line.startswith("#")][:600]
    return Graph.from_edges(pairs)


@cache
def _interactions() -> Interactions:
    """400 seeded random interactions of 40 users with 30 items."""
    rng = np.random.default_rng(0)
    return Interactions.from_arrays(
        rng.integers(0, 40, 400), rng.integers(0, 30, 400), rng.integers(1, 6, 400)
    )


def _matrix() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((200, 16)).astype(np.float32)


# ---------------------------------------------------------------------- the estimators


@dataclass(frozen=True)
class Case:
    """How to build an estimator small and fast, what to fit it on, and one bad value per param."""

    params: dict[str, Any]
    data: Callable[[], Any]
    invalid: dict[str, Any] = field(default_factory=dict)


_WORDS = dict(dim=8, min_count=2, epochs=1, workers=1, seed=3, progress=False)
_WORD2VEC_INVALID = {
    "dim": 0, "window": 0, "arch": "skip-gram", "objective": "softmax", "negative": -1,
    "ns_exponent": float("nan"), "sample": 1.5, "min_count": 0, "max_vocab_size": 0,
    "epochs": 0, "learning_rate": -0.1, "min_learning_rate": -1.0, "cbow_mean": 1,
    "workers": 0, "seed": -1, "batch_words": 0, "max_sentence_length": 0, "progress": "yes",
    "shared_negatives": 1,
}  # fmt: skip
_TFIDF_INVALID = {
    "lowercase": "yes", "token_pattern": "(", "ngram_range": (2, 1), "min_df": 0,
    "max_df": 1.5, "max_features": 0, "sublinear_tf": 1, "norm": "l3", "stop_words": "french",
}  # fmt: skip
_ENCODER_INVALID = {"wv": "vectors.txt", "token_pattern": "", "lowercase": 1, "normalize": "no"}
_WALKS = dict(walk_length=10, walks_per_node=2, dim=8, window=3, workers=1, seed=3, progress=False)
_WALK_INVALID = {
    "walk_length": 1, "walks_per_node": 0, "dim": 0, "window": 0, "negative": 0,
    "ns_exponent": float("nan"), "sample": 1.5, "epochs": 0, "learning_rate": None,
    "min_learning_rate": -1.0, "workers": 0, "seed": -1, "batch_words": 0, "progress": "yes",
    "shared_negatives": "yes",
}  # fmt: skip
_RECOMMENDER = dict(factors=4, epochs=3, workers=1, seed=3, progress=False)
_BPR_INVALID = {
    "factors": 0, "learning_rate": 0.0, "min_learning_rate": -1.0,
    "regularization": float("nan"), "epochs": 0, "negatives": "random", "workers": 0,
    "seed": -1, "progress": "yes",
}  # fmt: skip
_ALS_INVALID = {
    "factors": 0, "regularization": -1.0, "alpha": 0.0, "epochs": 0, "cg_steps": 0,
    "workers": 0, "seed": -1, "compute_loss": 1, "progress": "yes",
}  # fmt: skip

#: Every public estimator of embedforge; test_every_public_estimator_is_checked keeps it complete.
ESTIMATORS: dict[type, Case] = {
    Word2Vec: Case(_WORDS, _sentences, _WORD2VEC_INVALID),
    FastText: Case(
        {**_WORDS, "bucket": 2000, "min_n": 3, "max_n": 4},
        _sentences,
        {**_WORD2VEC_INVALID, "min_n": -1, "max_n": -1, "bucket": -1},
    ),
    GloVe: Case(
        dict(
            dim=8, window=3, min_count=2, epochs=2, memory="64M", workers=1, seed=3, progress=False
        ),  # fmt: skip
        _sentences,
        {
            "dim": 0,
            "window": 0,
            "x_max": 0.0,
            "weighting_power": -1.0,
            "learning_rate": 0.0,
            "epochs": 0,
            "min_count": 0,
            "max_vocab_size": 0,
            "memory": "lots",
            "combine": "both",
            "workers": 0,
            "seed": -1,
            "progress": "yes",
        },  # fmt: skip
    ),
    Cooccurrence: Case(
        dict(window=3, min_count=2, memory="64M", progress=False),
        _sentences,
        {
            "window": 0,
            "min_count": 0,
            "max_vocab_size": 0,
            "symmetric": "yes",
            "memory": -5,
            "progress": "yes",
        },  # fmt: skip
    ),
    TfIdf: Case(dict(min_df=2), _documents, _TFIDF_INVALID),
    LSA: Case(
        dict(dim=4, seed=3, min_df=2),
        _documents,
        {**_TFIDF_INVALID, "dim": 0, "seed": -1, "algorithm": "lanczos", "n_iter": 0},
    ),
    RandomProjection: Case(
        dict(dim=8, seed=3, min_df=2),
        _documents,
        {**_TFIDF_INVALID, "dim": 0, "kind": "dense", "seed": -1},
    ),
    MeanEncoder: Case({"wv": _word_vectors()}, _documents, _ENCODER_INVALID),
    SIFEncoder: Case(
        {"wv": _word_vectors(), "n_components": 1},
        _documents,
        {**_ENCODER_INVALID, "a": 0.0, "counts": {"the": -1}, "n_components": -1},
    ),
    ScalarQuantizer: Case(
        dict(bits=4, calibration="percentile", percentile=99.0),
        _matrix,
        {"bits": 9, "calibration": "max", "percentile": 10.0},
    ),
    BinaryQuantizer: Case(dict(rotate=True), _matrix, {"rotate": 1, "seed": -1}),
    PCAReducer: Case(dict(dim=4, seed=3), _matrix, {"dim": 0, "whiten": "yes", "seed": -1}),
    DeepWalk: Case(_WALKS, _graph, _WALK_INVALID),
    Node2Vec: Case({**_WALKS, "p": 4.0, "q": 0.5}, _graph, {**_WALK_INVALID, "p": 0.0, "q": -1.0}),
    BPR: Case(_RECOMMENDER, _interactions, _BPR_INVALID),
    ALS: Case(_RECOMMENDER, _interactions, _ALS_INVALID),
    SoftmaxSkipGram: Case(
        dict(
            dim=8,
            min_count=2,
            epochs=1,
            batch_size=256,
            device="cpu",
            workers=1,
            seed=3,
            progress=False,
        ),
        _sentences,
        {
            "dim": 0,
            "window": 0,
            "objective": "hierarchical_softmax",
            "negative": 0,
            "ns_exponent": float("nan"),
            "sample": 1.5,
            "min_count": 0,
            "max_vocab_size": 0,
            "epochs": 0,
            "batch_size": 0,
            "learning_rate": 0.0,
            "max_seconds": 0.0,
            "device": "gpu",
            "workers": 0,
            "seed": -1,
            "progress": "yes",
        },
    ),
}

_CLASSES = list(ESTIMATORS)
_INVALID = [(cls, name, value) for cls, case in ESTIMATORS.items()
            for name, value in case.invalid.items()]  # fmt: skip


def _make(cls: type, **overrides: Any):
    return cls(**{**ESTIMATORS[cls].params, **overrides})


def _fit(cls: type, **overrides: Any):
    return _make(cls, **overrides).fit(ESTIMATORS[cls].data())


def _constructor_args(cls: type) -> dict[str, inspect.Parameter]:
    """The named constructor arguments, following ``**kwargs`` forwarded to the parent class."""
    out: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = list(inspect.signature(klass.__init__).parameters.values())[1:]
        for p in params:  # a subclass's default wins over its parent's
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                out.setdefault(p.name, p)
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return out


def _arrays(value: Any, name: str, out: dict[str, np.ndarray], depth: int = 0) -> None:
    """Collect every array reachable from ``value`` (learned attributes, sklearn parts, vectors)."""
    if isinstance(value, np.ndarray):
        out[name] = value
    elif sp.issparse(value):
        csr = value.tocsr()
        out.update({f"{name}.data": csr.data, f"{name}.indices": csr.indices,
                    f"{name}.indptr": csr.indptr})  # fmt: skip
    elif isinstance(value, Embeddings):
        out[f"{name}.vectors"] = np.asarray(value.vectors)
        if value.counts is not None:
            out[f"{name}.counts"] = np.asarray(value.counts)
        out[f"{name}.keys"] = np.asarray(value.keys)
    elif depth < 3 and type(value).__module__.startswith(("embedforge", "sklearn")):
        for key, item in vars(value).items():
            _arrays(item, f"{name}.{key}", out, depth + 1)


def _state(model: Any) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for key, value in vars(model).items():
        if key.endswith("_") or key == "wv":
            _arrays(value, key, out)
    return out


def _assert_same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray], keys) -> None:
    for key in keys:
        x, y = np.asarray(a[key]), np.asarray(b[key])
        assert x.dtype == y.dtype and x.shape == y.shape, key
        if x.dtype.kind in "biufc":  # bit for bit (tells -0.0 from 0.0, keeps NaN payloads)
            assert np.ascontiguousarray(x).tobytes() == np.ascontiguousarray(y).tobytes(), key
        else:
            assert np.array_equal(x, y), key


def _comparable(params: dict[str, Any]) -> dict[str, Any]:
    """Params with the word vectors (compared as arrays elsewhere) left out."""
    return {k: v for k, v in params.items() if not isinstance(v, Embeddings)}


# ---------------------------------------------------------------------- the list is complete


def test_every_public_estimator_is_checked():
    public = {
        obj
        for name in embedforge.__all__
        if inspect.isclass(obj := getattr(embedforge, name)) and callable(getattr(obj, "fit", None))
    }
    assert public == set(ESTIMATORS), sorted(c.__name__ for c in public ^ set(ESTIMATORS))


def test_every_parameter_has_an_invalid_value_in_the_table():
    for cls, case in ESTIMATORS.items():
        assert set(case.invalid) == set(cls._PARAMS), cls.__name__


# ---------------------------------------------------------------------- construction


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda c: c.__name__)
def test_get_params_is_exactly_the_constructor_arguments(cls):
    args = _constructor_args(cls)
    model = _make(cls)
    assert list(model.get_params()) == list(cls._PARAMS)
    assert set(model.get_params()) == set(args)
    defaults = {n: p.default for n, p in args.items() if p.default is not p.empty}
    for name, value in model.get_params().items():
        expected = ESTIMATORS[cls].params.get(name, defaults.get(name))
        assert value is expected or value == expected, name


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda c: c.__name__)
def test_constructor_stores_invalid_values_and_does_no_work(cls):
    invalid = ESTIMATORS[cls].invalid
    model = _make(cls, **invalid)  # no validation at construction
    params = model.get_params()
    for name, value in invalid.items():
        assert params[name] is value, name
    learned = [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]
    assert learned == [], f"{cls.__name__}() set learned state {learned}"
    assert not hasattr(model, "wv") or "wv" in cls._PARAMS


# ---------------------------------------------------------------------- fit, params


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda c: c.__name__)
def test_fit_returns_self(cls):
    model = _make(cls)
    assert model.fit(ESTIMATORS[cls].data()) is model
    assert _state(model) or cls is BinaryQuantizer


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda c: c.__name__)
def test_get_params_set_params_round_trip(cls):
    model = _make(cls)
    params = model.get_params()
    clone = type(model)(**params)
    assert type(clone) is cls and clone.get_params().keys() == params.keys()
    assert all(clone.get_params()[k] is v for k, v in params.items())

    required = [n for n, p in _constructor_args(cls).items() if p.default is p.empty]
    other = cls(**{n: params[n] for n in required})
    assert other.set_params(**params) is other
    assert all(other.get_params()[k] is v for k, v in params.items())
    assert repr(other) == repr(model)


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda c: c.__name__)
def test_set_params_rejects_an_unknown_name(cls):
    model = _make(cls)
    before = model.get_params()
    with pytest.raises(InvalidParameterError) as info:
        model.set_params(**{name: 1 for name in cls._PARAMS[:1]}, learning_rat=0.1)
    message = str(info.value)
    assert "'learning_rat'" in message and cls.__name__ in message
    assert all(name in message for name in cls._PARAMS)
    assert model.get_params().keys() == before.keys()
    assert all(model.get_params()[k] is v for k, v in before.items())  # nothing was set


@pytest.mark.parametrize("cls", [c for c in _CLASSES if "epochs" in c._PARAMS],
                         ids=lambda c: c.__name__)  # fmt: skip
def test_set_params_then_fit_uses_the_new_values(cls):
    """set_params stores; the next fit validates and uses the value (no stale copy)."""
    model = _make(cls).set_params(epochs=0)
    with pytest.raises(InvalidParameterError, match="epochs"):
        model.fit(ESTIMATORS[cls].data())
    model.set_params(epochs=2).fit(ESTIMATORS[cls].data())
    assert len(model.loss_history_) == 2


# ---------------------------------------------------------------------- save / load


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda c: c.__name__)
def test_save_then_load_is_bit_exact(cls, tmp_path):
    model = _fit(cls)
    model.save(tmp_path / "model")
    loaded = cls.load(tmp_path / "model")
    assert type(loaded) is cls
    assert _comparable(loaded.get_params()) == _comparable(model.get_params())
    before, after = _state(model), _state(loaded)
    not_saved = _NOT_SAVED.get(cls, ())
    missing = {k for k in set(before) - set(after) if not k.startswith(not_saved)}
    assert not missing, f"{cls.__name__}.load lost {sorted(missing)}"
    _assert_same_arrays(before, after, set(before) & set(after))


#: Fitted arrays that save() leaves out on purpose (prefixes of the names _state gives them).
_NOT_SAVED: dict[type, tuple[str, ...]] = {
    # documented in GloVe.save: the counts can be large; Cooccurrence.save writes them
    GloVe: ("cooccurrence_.",),
    # TruncatedSVD's fit diagnostics; transform and encode use only svd_.components_
    LSA: ("svd_.explained_variance_", "svd_.explained_variance_ratio_", "svd_.singular_values_"),
}


# ---------------------------------------------------------------------- determinism


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda c: c.__name__)
def test_seeded_fit_is_bit_identical_across_runs(cls):
    if "workers" in cls._PARAMS:
        assert ESTIMATORS[cls].params["workers"] == 1
    first, second = _state(_fit(cls)), _state(_fit(cls))
    assert first.keys() == second.keys()
    _assert_same_arrays(first, second, first)


# ---------------------------------------------------------------------- invalid parameters


@pytest.mark.parametrize(
    ("cls", "name", "value"), _INVALID, ids=[f"{c.__name__}-{n}" for c, n, _ in _INVALID]
)
@pytest.mark.parametrize("how", ["constructor", "set_params"])
def test_invalid_parameter_is_rejected_at_fit_naming_it(cls, name, value, how):
    model = (
        _make(cls, **{name: value})
        if how == "constructor"
        else _make(cls).set_params(**{name: value})
    )
    assert model.get_params()[name] is value  # stored as given
    with pytest.raises(InvalidParameterError) as info:
        model.fit(ESTIMATORS[cls].data())
    assert re.search(rf"(?<![\w.]){name}(?!\w)", str(info.value)), str(info.value)


# ---------------------------------------------------------------------- continued training


@pytest.mark.parametrize("cls", [Word2Vec, FastText], ids=lambda c: c.__name__)
def test_continued_training_is_load_set_params_fit(cls, tmp_path):
    """What ``embedforge train ... --continue-from`` runs: the saved model, this run's settings."""
    _fit(cls).save(tmp_path / "model")
    old = cls.load(tmp_path / "model")
    more = [["zyxnewword", "appears", "here", "zyxnewword", "again"]] * 3 + _sentences()[:5]
    model = cls.load(tmp_path / "model").set_params(epochs=2, learning_rate=0.01)
    assert model.fit(more, update_vocab=True) is model
    assert model.get_params() == {**old.get_params(), "epochs": 2, "learning_rate": 0.01}
    assert model.wv.keys[: len(old.wv)] == old.wv.keys and "zyxnewword" in model.wv
    assert len(model.loss_history_) == 2
    assert not np.array_equal(model.wv.vectors[: len(old.wv)], old.wv.vectors)
