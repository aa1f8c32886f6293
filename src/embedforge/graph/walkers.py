"""DeepWalk and node2vec: node vectors from random walks trained with skip-gram.

Walks are never stored: the walk starts (``walks_per_node`` shuffled passes
over the nodes) are cut into pieces of ``batch_words // walk_length`` walks;
piece ``k`` is walked with a random stream seeded from ``(seed, k)`` by the
training thread that takes it, and its node ids go straight into the shared
skip-gram kernel (:func:`embedforge.kernels.word2vec.train_piece`) through
the shared engine (:mod:`embedforge._engine`).  The walks therefore do not
depend on ``workers``, and ``workers=1`` gives bit-identical vectors.

The noise distribution and frequent-node subsampling need each node's
visit count before training starts; a first pass makes the same walks and
only counts them (O(n_nodes) memory), so the counts are exact.

References
----------
Perozzi, Al-Rfou, Skiena (2014). "DeepWalk: Online Learning of Social
Representations", KDD 2014, arXiv:1403.6652.
Grover, Leskovec (2016). "node2vec: Scalable Feature Learning for Networks",
KDD 2016, arXiv:1607.00653.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .. import _engine
from .._engine import Run
from .._io import atomic_directory, read_config
from .._registry import register
from .._validation import Params, is_int, is_real
from .._validation import need as _need
from ..embeddings import Embeddings
from ..errors import FormatError, InvalidParameterError, NotFittedError
from ..kernels._sgns import new_thread_buffers
from ..kernels.walks import row_cumulative_weights, walk_piece
from ..kernels.word2vec import train_piece
from ..text.vocabulary import Vocabulary
from ..text.word2vec import Word2Vec
from ._graph import Graph

__all__ = ["DeepWalk", "Node2Vec"]

logger = logging.getLogger(__name__)

_FORMAT_VERSION = 1
# "epoch" index of the walk streams in _engine.piece_seed (training pieces use 0..epochs-1)
_WALK_STREAM = 0x57A1C
# skip-gram parameters handed to the shared Word2Vec machinery
_SGNS_PARAMS = (
    "dim", "window", "negative", "ns_exponent", "shared_negatives", "sample", "epochs",
    "learning_rate", "min_learning_rate", "workers", "seed", "batch_words", "progress",
)  # fmt: skip


def _plan(graph: Graph, walks_per_node: int, seed: int) -> np.ndarray:
    """(walks_per_node * n_nodes,) int32: the start node of every walk (one shuffled pass per round)."""
    n = graph.n_nodes
    starts = np.empty(walks_per_node * n, dtype=np.int32)
    for r in range(walks_per_node):
        starts[r * n : (r + 1) * n] = np.random.default_rng([seed, r]).permutation(n)
    return starts


class _Walker:
    """The graph's arrays and one model's walk options, as the kernel wants them."""

    def __init__(self, graph: Graph, walk_length: int, p: float, q: float, second: bool) -> None:
        self.indptr = graph.indptr
        self.indices = graph.indices
        self.weighted = bool(graph.weighted)
        self.cum = (
            row_cumulative_weights(graph.indptr, graph.weights)
            if self.weighted
            else np.zeros(1, dtype=np.float64)
        )
        self.walk_length = int(walk_length)
        self.p, self.q, self.second = float(p), float(q), bool(second)

    def walk(self, starts: np.ndarray, seed: int, remap: np.ndarray, out: np.ndarray) -> np.ndarray:
        n = walk_piece(
            self.indptr, self.indices, self.cum, self.weighted, starts, self.walk_length,
            self.p, self.q, self.second, np.uint64(seed), remap, out,
        )  # fmt: skip
        return out[:n]


class _RandomWalkEmbedding(Params):
    """Shared implementation of :class:`DeepWalk` and :class:`Node2Vec`."""

    _SECOND_ORDER: ClassVar[bool] = False
    _PARAMS: ClassVar[tuple[str, ...]] = ()

    # ------------------------------------------------------------------ checks
    @property
    def effective_workers(self) -> int:
        """Threads in use (``workers`` or the number of cores)."""
        return int(self.workers) if self.workers is not None else max(1, os.cpu_count() or 1)

    def _skipgram(self) -> Word2Vec:
        """The Word2Vec whose tables, initialisation and kernel train these vectors."""
        params = {name: getattr(self, name) for name in _SGNS_PARAMS}
        return Word2Vec(arch="skipgram", objective="negative_sampling", min_count=1, **params)

    def _validate(self) -> None:
        def need(ok: bool, name: str, expected: str) -> None:
            _need(ok, name, expected, getattr(self, name))

        need(is_int(self.walk_length) and self.walk_length >= 2, "walk_length", "an integer >= 2")
        need(is_int(self.walks_per_node) and self.walks_per_node >= 1, "walks_per_node",
             "an integer >= 1")  # fmt: skip
        need(is_real(self.p) and self.p > 0, "p", "a finite number > 0")
        need(is_real(self.q) and self.q > 0, "q", "a finite number > 0")
        need(isinstance(self.progress, bool), "progress", "True or False")
        need(
            is_real(self.learning_rate) and self.learning_rate > 0, "learning_rate", "a number > 0"
        )
        self._skipgram()._validate()  # dim, window, negative, sample, ... named as here

    def _walks_per_piece(self) -> int:
        return max(1, int(self.batch_words) // int(self.walk_length))

    def _walker(self, graph: Graph) -> _Walker:
        if not isinstance(graph, Graph):
            raise InvalidParameterError(
                f"graph must be an embedforge Graph; got {type(graph).__name__}. Build one with "
                "Graph.read_edgelist(path), Graph.from_edges(pairs) or Graph.from_scipy(matrix)"
            )
        if graph.indices.size == 0:
            raise InvalidParameterError(
                f"the graph has {graph.n_nodes} nodes but no edge; random walks need edges"
            )
        return _Walker(graph, self.walk_length, self.p, self.q, self._SECOND_ORDER)

    # ------------------------------------------------------------------ walks
    def walks(self, graph: Graph, *, keys: bool = True) -> Iterator[list[Hashable] | np.ndarray]:
        """The walks :meth:`fit` trains on, one at a time (made on the fly, never all in memory).

        Parameters
        ----------
        graph : Graph
        keys : bool, default True
            Yield each walk as a list of node keys (True) or as an int32
            array of node indices (False).

        Yields
        ------
        list of keys or (length,) int32
            One walk of at most ``walk_length`` nodes (shorter when it
            reaches a node without out-edge), in the order :meth:`fit` uses.

        Raises
        ------
        InvalidParameterError
            A parameter is out of range or the graph has no edge.
        """
        self._validate()
        walker = self._walker(graph)
        starts = _plan(graph, self.walks_per_node, self.seed)
        per = self._walks_per_piece()
        identity = np.arange(graph.n_nodes, dtype=np.int32)
        buf = np.empty(per * (self.walk_length + 1), dtype=np.int32)
        node_keys = graph.keys
        for k, lo in enumerate(range(0, starts.size, per)):
            seed = _engine.piece_seed(self.seed, _WALK_STREAM, k)
            flat = walker.walk(starts[lo : lo + per], seed, identity, buf)
            ends = np.flatnonzero(flat < 0)
            begin = 0
            for end in ends.tolist():
                walk = flat[begin:end]
                begin = end + 1
                yield [node_keys[i] for i in walk.tolist()] if keys else walk.copy()

    def _count_visits(
        self, walker: _Walker, starts: np.ndarray, n: int, seed: int | None = None
    ) -> np.ndarray:
        """(n,) int64: how often each node occurs in the walks (a pass that stores none)."""
        per = self._walks_per_piece()
        identity = np.arange(n, dtype=np.int32)
        los = list(range(0, starts.size, per))
        workers = self.effective_workers
        base = self.seed if seed is None else seed

        def count(chunk: list[int]) -> np.ndarray:
            buf = np.empty(per * (self.walk_length + 1), dtype=np.int32)
            counts = np.zeros(n, dtype=np.int64)
            for k in chunk:
                lo = los[k]
                piece = _engine.piece_seed(base, _WALK_STREAM, k)
                flat = walker.walk(starts[lo : lo + per], piece, identity, buf)
                counts += np.bincount(flat[flat >= 0], minlength=n)
            return counts

        chunks = [list(range(i, len(los), workers)) for i in range(workers)]
        if workers == 1:
            return count(chunks[0])
        with ThreadPoolExecutor(workers) as pool:
            return sum(pool.map(count, chunks), np.zeros(n, dtype=np.int64))

    # ------------------------------------------------------------------ fitting
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "wv")

    def fit(self, graph: Graph) -> _RandomWalkEmbedding:
        """Learn a vector for every node of ``graph``.

        Parameters
        ----------
        graph : Graph

        Returns
        -------
        self
            With :attr:`wv` keyed by ``str(node key)``, most visited node first.

        Raises
        ------
        InvalidParameterError
            A hyper-parameter is out of range (the message names it), ``graph``
            is not a :class:`Graph`, or it has no edge.
        """
        self._validate()
        walker = self._walker(graph)
        sg = self._skipgram()
        workers = self.effective_workers
        n = graph.n_nodes
        starts = _plan(graph, self.walks_per_node, self.seed)
        t0, c0 = time.perf_counter(), time.process_time()
        counts = self._count_visits(walker, starts, n)
        walk_time, walk_cpu = time.perf_counter() - t0, time.process_time() - c0
        # vocabulary order: most visited first (the kernel's per-thread hot rows are the first rows)
        order = np.argsort(-counts, kind="stable").astype(np.int32)
        remap = np.empty(n, dtype=np.int32)
        remap[order] = np.arange(n, dtype=np.int32)
        names = graph.names
        vocab = Vocabulary([names[i] for i in order.tolist()], counts[order])
        syn0 = sg._init_input(n)
        syn1 = sg._init_output(n)
        tables = sg._tables(vocab)
        hot = sg._hot_output_rows(workers)
        per = self._walks_per_piece()
        n_pieces = -(-starts.size // per)

        def pieces(epoch: int) -> Iterator[tuple[Any, int]]:
            for k in range(n_pieces):
                lo = k * per
                m = min(per, starts.size - lo)
                yield (k, lo, lo + m), m * self.walk_length

        def new_runner() -> Run:
            buf = np.empty(per * (self.walk_length + 1), dtype=np.int32)
            bufs = new_thread_buffers(hot, hot, syn0.shape[1])

            def run(
                piece: tuple[int, int, int], a0: float, a1: float, seed: int
            ) -> tuple[float, int]:
                k, lo, hi = piece
                walk_seed = _engine.piece_seed(self.seed, _WALK_STREAM, k)
                tokens = walker.walk(starts[lo:hi], walk_seed, remap, buf)
                return train_piece(tokens, syn0, syn1, tables, a0, a1, np.uint64(seed), bufs)

            return run

        stats = _engine.train(
            pieces,
            new_runner,
            units_per_epoch=starts.size * self.walk_length,
            epochs=self.epochs,
            workers=workers,
            seed=self.seed,
            learning_rate=float(self.learning_rate),
            min_learning_rate=float(self.min_learning_rate),
            desc=type(self).__name__.lower(),
            unit="nodes",
            progress=self.progress,
        )
        self.vocabulary_ = vocab
        self.syn1_ = syn1
        self.wv = Embeddings._from_trusted(vocab.words, syn0, vocab.counts, vocab.word_to_index)
        self.training_time_ = stats.seconds
        self.walk_time_ = walk_time
        self.walk_cpu_time_ = walk_cpu
        self.nodes_per_second_ = stats.units_per_second
        self.loss_history_ = stats.loss_history
        return self

    def add_nodes(self, graph: Graph) -> _RandomWalkEmbedding:
        """Embed the nodes of ``graph`` that the model has no vector for; the old vectors stay as they are.

        ``graph`` is the grown graph (old nodes, new nodes and their edges).
        ``walks_per_node`` walks start from each new node (they may run
        through old nodes); skip-gram trains on them with the old rows of
        both weight matrices restored after every piece of work, so the old
        vectors (and ``syn1_`` rows) come out bit-identical and only the new
        rows learn.  Training runs on one thread (restoring rows while other
        threads update them would race).

        Parameters
        ----------
        graph : Graph
            Must contain every node the model knows (by ``str(key)``).

        Returns
        -------
        self
            ``wv`` grows by the new nodes (appended after the old ones, with
            their visit counts in the new walks).

        Raises
        ------
        NotFittedError
            If the model has not been fitted.
        UnknownKeyError
            If ``graph`` lacks nodes the model was trained on.
        InvalidParameterError
            As :meth:`fit`.

        Notes
        -----
        Within one piece (``batch_words`` walk nodes) the old rows do receive
        updates, which the later walks of that piece see; the piece's end
        restores them.  Smaller ``batch_words`` makes the freezing stricter.
        """
        from ..errors import UnknownKeyError

        self._check_fitted()
        self._validate()
        walker = self._walker(graph)
        old_keys = self.wv.keys
        names = graph.names
        index = {k: i for i, k in enumerate(names)}
        missing = [k for k in old_keys if k not in index]
        if missing:
            raise UnknownKeyError(
                f"graph lacks {len(missing):,} node(s) the model was trained on, e.g. "
                f"{missing[:5]!r}; add_nodes needs the grown graph (old and new nodes)"
            )
        known = set(old_keys)
        new = np.array([i for i, k in enumerate(names) if k not in known], dtype=np.int32)
        if new.size == 0:
            return self
        n_old, n = len(old_keys), graph.n_nodes
        rng_starts = [
            np.random.default_rng([self.seed, r, n_old]).permutation(new)
            for r in range(self.walks_per_node)
        ]
        starts = np.concatenate(rng_starts).astype(np.int32)
        # graph index -> row: old nodes keep their rows, new ones are appended in graph order
        remap = np.empty(n, dtype=np.int32)
        remap[[index[k] for k in old_keys]] = np.arange(n_old, dtype=np.int32)
        remap[new] = np.arange(n_old, n, dtype=np.int32)
        visits = self._count_visits(walker, starts, n, seed=self.seed + n_old)
        counts = np.concatenate([np.asarray(self.wv.counts, dtype=np.int64), visits[new]])
        counts = np.maximum(counts, 1)
        vocab = Vocabulary(list(old_keys) + [names[i] for i in new.tolist()], counts)
        sg = self._skipgram()
        old0 = np.array(self.wv.vectors, dtype=np.float32)
        old1 = np.array(self.syn1_, dtype=np.float32)
        syn0 = sg._init_input(n, start=n_old)
        syn0[:n_old] = old0
        syn1 = np.zeros((n, old1.shape[1]), dtype=np.float32)
        syn1[:n_old] = old1
        tables = sg._tables(vocab)
        per = self._walks_per_piece()
        n_pieces = -(-starts.size // per)

        def pieces(epoch: int) -> Iterator[tuple[Any, int]]:
            for k in range(n_pieces):
                lo = k * per
                yield (
                    (k, lo, min(lo + per, starts.size)),
                    (min(per, starts.size - lo) * self.walk_length),
                )

        def new_runner() -> Run:
            buf = np.empty(per * (self.walk_length + 1), dtype=np.int32)
            bufs = new_thread_buffers(0, 0, syn0.shape[1])

            def run(
                piece: tuple[int, int, int], a0: float, a1: float, seed: int
            ) -> tuple[float, int]:
                k, lo, hi = piece
                walk_seed = _engine.piece_seed(self.seed + n_old, _WALK_STREAM, k)
                tokens = walker.walk(starts[lo:hi], walk_seed, remap, buf)
                out = train_piece(tokens, syn0, syn1, tables, a0, a1, np.uint64(seed), bufs)
                syn0[:n_old] = old0
                syn1[:n_old] = old1
                return out

            return run

        stats = _engine.train(
            pieces, new_runner, units_per_epoch=starts.size * self.walk_length,
            epochs=self.epochs, workers=1, seed=self.seed + n_old,
            learning_rate=float(self.learning_rate),
            min_learning_rate=float(self.min_learning_rate),
            desc=f"{type(self).__name__.lower()} new nodes", unit="nodes", progress=self.progress,
        )  # fmt: skip
        self.vocabulary_ = vocab
        self.syn1_ = syn1
        self.wv = Embeddings._from_trusted(vocab.words, syn0, vocab.counts, vocab.word_to_index)
        self.loss_history_ = stats.loss_history
        return self

    # ------------------------------------------------------------------ persistence
    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"this {type(self).__name__} model is not fitted yet; call fit(graph) first"
            )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the model to a directory: ``config.json``, ``wv/`` (node vectors with visit counts), ``syn1.npy``.

        Written to a temporary name and renamed into place.  ``Embeddings.load(path)``
        reads its node vectors, so every word-vector command works on it.

        Raises
        ------
        NotFittedError
            If the model has not been fitted.
        """
        self._check_fitted()
        config = {
            "class": type(self).__name__,
            "format_version": _FORMAT_VERSION,
            "params": self.get_params(),
            "state": {"loss_history": self.loss_history_, "n_nodes": len(self.wv)},
        }
        with atomic_directory(path) as tmp:
            self.wv.save(tmp / "wv")
            np.save(tmp / "syn1.npy", self.syn1_)
            (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = False) -> Any:
        """Load a model written by :meth:`save`.

        Raises
        ------
        FormatError
            If ``path`` is not a saved model of this class or a file in it is
            missing or inconsistent.
        """
        p = Path(path)
        config = read_config(
            p,
            expected=cls.__name__,
            format_version=_FORMAT_VERSION,
            what=f"{cls.__name__} model",
            hint="node vectors load with Embeddings.load",
            params=cls._PARAMS,
        )
        model = cls(**(config.get("params") or {}))
        wv = Embeddings.load(p / "wv", mmap=mmap)
        try:
            syn1 = np.load(p / "syn1.npy", mmap_mode="r" if mmap else None)
        except (OSError, ValueError) as exc:
            raise FormatError(f"cannot read {str(p / 'syn1.npy')!r}: {exc}") from exc
        if syn1.shape != (len(wv), wv.dim) or wv.counts is None:
            raise FormatError(
                f"{str(p)!r} is inconsistent: syn1.npy has shape {syn1.shape}, expected "
                f"({len(wv)}, {wv.dim}) with visit counts; save the model again"
            )
        model.vocabulary_ = Vocabulary(wv.keys, wv.counts)
        model.syn1_ = np.array(syn1, dtype=np.float32) if mmap else syn1
        model.wv = wv
        model.loss_history_ = list(config.get("state", {}).get("loss_history", []))
        return model


_COMMON_DOC = """
    walk_length : int, default 80
        Nodes per walk (>= 2).
    walks_per_node : int, default 10
        Walks started from every node (one shuffled pass over the nodes per round).
    dim : int, default 128
        Width of the node vectors.
    window : int, default 10
        Skip-gram window (each centre node draws its window from 1..``window``).
    negative : int, default 5
        Noise nodes per prediction.
    ns_exponent : float, default 0.75
        Noise distribution ``visits ** ns_exponent``.
    shared_negatives : bool, default True
        Draw the ``negative`` noise nodes once per centre node and share them
        among its window, updating the window as one small matrix product
        (HogBatch; Ji et al. 2019, arXiv:1604.04661): about 5x fewer CPU
        seconds per node at ``window=10, dim=128`` with node-classification
        quality unchanged (BENCHMARKS.md).  False: word2vec C's pair-by-pair
        updates, as gensim makes them.
    sample : float, default 1e-3
        Subsampling threshold of frequently visited nodes (word2vec's); 0 disables it.
    epochs : int, default 1
        Passes over the walks (the same walks each epoch).
    learning_rate : float, default 0.025
    min_learning_rate : float, default 1e-4
        The rate decays linearly to this over the run.
    workers : int or None
        Threads that walk and train (Hogwild); None uses every core.  The
        walks do not depend on it; ``workers=1`` is bit-reproducible.
    seed : int, default 1
        Seed of the walks, the initial vectors and the training draws.
    batch_words : int, default 10000
        Walk nodes per piece of work (``batch_words // walk_length`` walks).
    progress : bool, default True
        Show a progress bar when on a terminal.

    Attributes
    ----------
    wv : Embeddings
        One vector per node, keyed by ``str(node key)``, most visited node
        first, with visit counts.
    vocabulary_ : Vocabulary
    syn1_ : (n_nodes, dim) float32
        Output (context) weights.
    loss_history_ : list of float
        Mean negative-sampling loss per prediction in each epoch (nats).
    training_time_ : float
        Seconds of walking and training (the counting pass excluded).
    walk_time_ : float
        Seconds of the counting pass: every walk generated once (on
        ``workers`` threads) and its node visits counted, nothing stored.
    walk_cpu_time_ : float
        CPU seconds of that pass, all threads together.
    nodes_per_second_ : float
        Walk nodes trained per second.
"""


@register("DeepWalk")
class DeepWalk(_RandomWalkEmbedding):
    """Node vectors from uniform (first-order) random walks and skip-gram (Perozzi et al. 2014).

    On a weighted graph each step follows an edge with probability
    proportional to its weight.

    Parameters
    ----------
    """

    _SECOND_ORDER = False
    _PARAMS = (
        "walk_length", "walks_per_node", "dim", "window", "negative", "ns_exponent",
        "shared_negatives", "sample", "epochs", "learning_rate", "min_learning_rate", "workers",
        "seed", "batch_words", "progress",
    )  # fmt: skip

    def __init__(
        self,
        *,
        walk_length: int = 80,
        walks_per_node: int = 10,
        dim: int = 128,
        window: int = 10,
        negative: int = 5,
        ns_exponent: float = 0.75,
        shared_negatives: bool = True,
        sample: float = 1e-3,
        epochs: int = 1,
        learning_rate: float = 0.025,
        min_learning_rate: float = 1e-4,
        workers: int | None = None,
        seed: int = 1,
        batch_words: int = 10_000,
        progress: bool = True,
    ) -> None:
        self.walk_length = walk_length
        self.walks_per_node = walks_per_node
        self.dim = dim
        self.window = window
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.shared_negatives = shared_negatives
        self.sample = sample
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.min_learning_rate = min_learning_rate
        self.workers = workers
        self.seed = seed
        self.batch_words = batch_words
        self.progress = progress

    # DeepWalk is node2vec with p = q = 1: the kernel's first-order walk (Node2Vec sets them)
    p = 1.0
    q = 1.0


@register("Node2Vec")
class Node2Vec(DeepWalk):
    """Node vectors from node2vec's second-order biased random walks and skip-gram (Grover & Leskovec 2016).

    From ``v``, reached from ``t``, the walk moves to ``x`` with probability
    proportional to ``w(v, x) * alpha``, ``alpha = 1/p`` if ``x == t``, ``1``
    if ``x`` is a neighbour of ``t``, ``1/q`` otherwise: a low ``q`` explores
    outward (DFS-like, community structure), a high ``q`` stays local
    (BFS-like, structural roles).  Steps are drawn exactly by rejection
    sampling in O(edges) memory (:mod:`embedforge.kernels.walks`).

    Parameters
    ----------
    p : float, default 1.0
        Return parameter (> 0).
    q : float, default 1.0
        In-out parameter (> 0).
    """

    _SECOND_ORDER = True
    _PARAMS = ("p", "q", *DeepWalk._PARAMS)

    def __init__(self, *, p: float = 1.0, q: float = 1.0, **walk_params: Any) -> None:
        super().__init__(**walk_params)  # DeepWalk's parameters, stored as they are
        self.p = p
        self.q = q


_REFERENCES_DOC = """
    References
    ----------
    Perozzi, Al-Rfou, Skiena (2014). "DeepWalk: Online Learning of Social
    Representations", KDD 2014, arXiv:1403.6652.
    Grover, Leskovec (2016). "node2vec: Scalable Feature Learning for Networks",
    KDD 2016, arXiv:1607.00653.

    Examples
    --------
    >>> graph = Graph.read_edgelist("edges.txt")  # doctest: +SKIP
    >>> model = {name}(dim=128, workers=2, seed=1).fit(graph)  # doctest: +SKIP
    >>> model.wv.most_similar("42", k=5)  # doctest: +SKIP
"""

for _cls in (DeepWalk, Node2Vec):
    _cls.__doc__ = (
        (_cls.__doc__ or "").rstrip(" ")
        + _COMMON_DOC.lstrip("\n")
        + _REFERENCES_DOC.format(name=_cls.__name__)
    )
