"""Matrix-factorisation recommenders for implicit feedback: BPR and ALS.

Both embed users and items in one space where the score of an item for a
user is one inner product; they share everything but training
(:class:`_Recommender`): recommending, similar items, folding in a new user,
incremental training, saving and loading.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from .. import _engine
from .._engine import Run
from .._io import read_json
from .._linalg import normalize_rows, top_k
from .._persist import open_saved, read_arrays, save_directory
from .._registry import register
from .._validation import Params, check_bool, check_choice, check_int, check_real
from ..embeddings import Embeddings
from ..errors import FormatError, InvalidParameterError, NotFittedError
from ._interactions import Interactions, _rows

__all__ = ["ALS", "BPR"]

logger = logging.getLogger(__name__)

_FORMAT_VERSION = 1
# BPR triples per piece of work handed to the engine
_PIECE = 16_384
# BPR negatives redrawn while the user has the drawn item
_MAX_REDRAWS = 16
# scores computed at a time by recommend (users per block)
_BLOCK = 512


def _as_interactions(data: Any, name: str = "interactions") -> Interactions:
    if isinstance(data, Interactions):
        return data
    if sp.issparse(data):
        return Interactions(data)
    raise InvalidParameterError(
        f"{name} must be an Interactions (read_interactions(path), Interactions.from_arrays) "
        f"or a scipy.sparse users x items matrix; got {type(data).__name__}"
    )


class _Recommender(Params):
    """What BPR and ALS share: the fitted state, recommending, similar items, persistence."""

    _PARAMS: ClassVar[tuple[str, ...]] = ()
    _NAME: ClassVar[str] = ""

    # ------------------------------------------------------------------ state
    @property
    def effective_workers(self) -> int:
        """Threads in use (``workers`` or the number of cores)."""
        return int(self.workers) if self.workers is not None else max(1, os.cpu_count() or 1)

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "user_factors_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"this {type(self).__name__} model is not fitted yet; call fit(interactions) first"
            )

    def _set_state(
        self, users: list[str], items: list[str], user_items: sp.csr_matrix, uf: np.ndarray,
        itf: np.ndarray,
    ) -> None:  # fmt: skip
        self.users_ = users
        self.items_ = items
        self.user_items_ = user_items
        self.user_factors_ = uf
        self.item_factors_ = itf
        self._user_index = {k: i for i, k in enumerate(users)}
        self._item_index = {k: i for i, k in enumerate(items)}
        self._embeddings: dict[str, Embeddings] = {}

    @property
    def user_embeddings_(self) -> Embeddings:
        """One vector per user, keyed by ``str(user key)``: ``(n_users, dim)`` float32.

        ``user_embeddings_.vectors @ item_embeddings_.vectors.T`` are the
        model's scores.
        """
        self._check_fitted()
        if "users" not in self._embeddings:
            self._embeddings["users"] = Embeddings._from_trusted(
                self.users_, self.user_factors_, None, self._user_index
            )
        return self._embeddings["users"]

    @property
    def item_embeddings_(self) -> Embeddings:
        """One vector per item, keyed by ``str(item key)``, with interaction counts: ``(n_items, dim)`` float32."""
        self._check_fitted()
        if "items" not in self._embeddings:
            counts = np.bincount(self.user_items_.indices, minlength=len(self.items_))
            self._embeddings["items"] = Embeddings._from_trusted(
                self.items_, self.item_factors_, counts.astype(np.int64), self._item_index
            )
        return self._embeddings["items"]

    # ------------------------------------------------------------------ fitting
    def fit(self, interactions: Interactions | sp.spmatrix) -> _Recommender:
        """Learn user and item vectors from ``interactions``.

        Parameters
        ----------
        interactions : Interactions or scipy.sparse matrix, shape (n_users, n_items)
            Weights > 0 where a user interacted with an item.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            A hyper-parameter is out of range (the message names it), or the
            matrix has no interaction.
        """
        self._validate()
        data = _as_interactions(interactions)
        if data.nnz == 0:
            raise InvalidParameterError(f"{data!r} has no interaction to learn from")
        users = [str(k) for k in data.users]
        items = [str(k) for k in data.items]
        m = data.matrix
        uf, itf, history, seconds = self._train_new(m)
        self._set_state(users, items, m, uf, itf)
        self.loss_history_ = history
        self.epochs_trained_ = int(self.epochs)
        self.training_time_ = seconds
        return self

    def partial_fit(self, interactions: Interactions | sp.spmatrix) -> _Recommender:
        """Add new interactions (new users and items too) and update the rows they touch.

        The new interactions are added to the training matrix (a repeated
        (user, item) pair adds its weight); new users and items get new rows;
        then only the rows of users and items that appear in ``interactions``
        are trained (see the class's Notes), the others keep their vectors.
        On an unfitted model this is :meth:`fit`.

        Parameters
        ----------
        interactions : Interactions or scipy.sparse matrix
            Keys are matched to the model's by ``str(key)``; a scipy matrix
            uses the model's row and column numbers (it may be larger).

        Returns
        -------
        self
        """
        if not self.is_fitted:
            return self.fit(interactions)
        self._validate()
        data = _as_interactions(interactions)
        users = list(self.users_)
        items = list(self.items_)
        u_index, i_index = dict(self._user_index), dict(self._item_index)
        for keys, index, new in ((data.users, u_index, users), (data.items, i_index, items)):
            for k in keys:
                s = str(k)
                if s not in index:
                    index[s] = len(new)
                    new.append(s)
        coo = data.matrix.tocoo()
        u_map = np.array([u_index[str(k)] for k in data.users], dtype=np.int64)
        i_map = np.array([i_index[str(k)] for k in data.items], dtype=np.int64)
        shape = (len(users), len(items))
        added = sp.csr_matrix((coo.data, (u_map[coo.row], i_map[coo.col])), shape=shape)
        old = self.user_items_
        grown = sp.csr_matrix((old.data, old.indices, old.indptr), shape=(old.shape[0], shape[1]))
        grown.resize(shape)
        merged = (grown + added).tocsr()
        merged.sort_indices()
        merged.indices = merged.indices.astype(np.int32, copy=False)
        merged.data = merged.data.astype(np.float32, copy=False)
        uf = self._grow(self.user_factors_, shape[0], user=True)
        itf = self._grow(self.item_factors_, shape[1], user=False)
        touched_users = np.unique(u_map[coo.row])
        touched_items = np.unique(i_map[coo.col])
        history = self._train_update(merged, uf, itf, touched_users, touched_items)
        self._set_state(users, items, merged, uf, itf)
        self.loss_history_ = list(self.loss_history_) + history
        return self

    # ------------------------------------------------------------------ scoring
    def _user_rows(self, users: Hashable | Iterable[Hashable]) -> np.ndarray:
        self._check_fitted()
        return _rows(self._user_index, users, "user")

    def _item_cols(self, items: Hashable | Iterable[Hashable]) -> np.ndarray:
        self._check_fitted()
        return _rows(self._item_index, items, "item")

    def _top(
        self, vectors: np.ndarray, k: int, seen: list[np.ndarray] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        ids = np.empty((vectors.shape[0], k), dtype=np.int64)
        scores = np.empty((vectors.shape[0], k), dtype=np.float32)
        item_t = np.ascontiguousarray(self.item_factors_.T)
        for lo in range(0, vectors.shape[0], _BLOCK):
            block = vectors[lo : lo + _BLOCK] @ item_t
            if seen is not None:
                for r in range(block.shape[0]):
                    block[r, seen[lo + r]] = -np.inf
            ids[lo : lo + _BLOCK], scores[lo : lo + _BLOCK] = top_k(block, k)
        return ids, scores

    def recommend(
        self, users: Hashable | Iterable[Hashable], k: int = 10, filter_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best items for each user, by the model's score (an inner product).

        Parameters
        ----------
        users : key or iterable of keys
            User keys (or their ``str``).  A single key gives one row.
        k : int, default 10
        filter_seen : bool, default True
            Leave out the items each user has in the training data.

        Returns
        -------
        ids : (n_users, k) int64
            Item rows, best first (``model.items_[id]`` is the key);
            ``-1`` pads when fewer than ``k`` items are left.
        scores : (n_users, k) float32
            Their scores; ``-inf`` pads.

        Raises
        ------
        UnknownKeyError
            A user the model does not know (fold a new user in with
            :meth:`recommend_new_user`, or add it with :meth:`partial_fit`).
        InvalidParameterError
            ``k`` < 1.
        """
        k = check_int(k, "k", 1)
        check_bool(filter_seen, "filter_seen")
        rows = self._user_rows(users)
        m = self.user_items_
        seen = [m.indices[m.indptr[u] : m.indptr[u + 1]] for u in rows] if filter_seen else None
        return self._top(self.user_factors_[rows], k, seen)

    def similar_items(
        self, items: Hashable | Iterable[Hashable], k: int = 10
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` items most similar to each given item (cosine of item vectors), itself left out.

        Returns
        -------
        ids : (n_items, k) int64
            Item rows, best first; ``-1`` pads.
        scores : (n_items, k) float32
            Cosine similarities; ``-inf`` pads.

        Raises
        ------
        UnknownKeyError
            An item the model does not know.
        """
        k = check_int(k, "k", 1)
        cols = self._item_cols(items)
        unit = normalize_rows(self.item_factors_)
        scores = unit[cols] @ unit.T
        scores[np.arange(cols.size), cols] = -np.inf
        return top_k(scores, k)

    def similar_users(
        self, users: Hashable | Iterable[Hashable], k: int = 10
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` users most similar to each given user (cosine), itself left out; as :meth:`similar_items`."""
        k = check_int(k, "k", 1)
        rows = self._user_rows(users)
        unit = normalize_rows(self.user_factors_)
        scores = unit[rows] @ unit.T
        scores[np.arange(rows.size), rows] = -np.inf
        return top_k(scores, k)

    def _new_user_items(
        self, items: Hashable | Iterable[Hashable], weights: Sequence[float] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        cols = self._item_cols(items)
        if cols.size == 0:
            raise InvalidParameterError("items is empty; a new user needs at least one item")
        w = np.ones(cols.size, np.float32) if weights is None else np.asarray(weights, np.float32)
        if w.shape != cols.shape:
            raise InvalidParameterError(
                f"weights must have one entry per item ({cols.size}); got shape {w.shape}"
            )
        if not np.all(np.isfinite(w)) or (w <= 0).any():
            raise InvalidParameterError(f"weights must be finite and > 0; got {w.tolist()!r:.80}")
        row = sp.csr_matrix((w, (np.zeros(cols.size, np.int64), cols)), shape=(1, len(self.items_)))
        row.sum_duplicates()
        row.sort_indices()
        return row.indices.astype(np.int32), row.data.astype(np.float32)

    def user_vector(
        self, items: Hashable | Iterable[Hashable], weights: Sequence[float] | None = None
    ) -> np.ndarray:
        """Fold a new user in: their vector from the items they interacted with, without retraining.

        Parameters
        ----------
        items : key or iterable of keys
            Items the user interacted with (keys known to the model).
        weights : sequence of float, optional
            One weight per item (default 1); repeated items add up.

        Returns
        -------
        (dim,) float32
            A row like those of ``user_embeddings_``: the item vectors stay as
            they are (see the class's Notes for how each model solves it).

        Raises
        ------
        UnknownKeyError
            An item the model does not know.
        InvalidParameterError
            No item, or a weight that is not finite and > 0.
        """
        cols, w = self._new_user_items(items, weights)
        return self._fold_in(cols, w)

    def recommend_new_user(
        self,
        items: Hashable | Iterable[Hashable],
        weights: Sequence[float] | None = None,
        k: int = 10,
        filter_seen: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Recommendations for a user the model has not seen, from their items (no retraining).

        The user is folded in by :meth:`user_vector`; the model is unchanged.

        Returns
        -------
        ids : (1, k) int64
        scores : (1, k) float32
            As :meth:`recommend`; with ``filter_seen`` the given items are left out.
        """
        k = check_int(k, "k", 1)
        check_bool(filter_seen, "filter_seen")
        cols, w = self._new_user_items(items, weights)
        vector = self._fold_in(cols, w)
        return self._top(vector[None, :], k, [cols] if filter_seen else None)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to a directory: ``config.json``, ``user_factors.npy``, ``item_factors.npy``,
        the training matrix (``user_items_{indptr,indices,data}.npy``), ``users.json``, ``items.json``.

        Written to a temporary name and renamed into place; ``embedforge.load(path)``
        opens it.

        Raises
        ------
        NotFittedError
            If the model has not been fitted.
        """
        self._check_fitted()
        m = self.user_items_
        save_directory(
            path,
            self,
            name=self._NAME,
            format_version=_FORMAT_VERSION,
            state={
                "loss_history": self.loss_history_,
                "epochs_trained": self.epochs_trained_,
                "n_users": len(self.users_),
                "n_items": len(self.items_),
            },
            arrays={
                "user_factors": self.user_factors_,
                "item_factors": self.item_factors_,
                "user_items_indptr": m.indptr,
                "user_items_indices": m.indices,
                "user_items_data": m.data,
            },
            files={
                "users.json": json.dumps(self.users_).encode("utf-8"),
                "items.json": json.dumps(self.items_).encode("utf-8"),
            },
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = False) -> Any:
        """Load a model written by :meth:`save` (``mmap``: memory-map the factor arrays).

        Raises
        ------
        FormatError
            If ``path`` is not a saved model of this class, or a file in it is
            missing or inconsistent.
        """
        root, model, state = open_saved(
            cls, path, name=cls._NAME, format_version=_FORMAT_VERSION,
            what=f"{cls.__name__} model", hint=f"save a model with {cls.__name__}.save",
        )  # fmt: skip
        arrays = read_arrays(
            root,
            ("user_factors", "item_factors", "user_items_indptr", "user_items_indices",
             "user_items_data"),
            mmap,
        )  # fmt: skip
        keys = {}
        for name in ("users", "items"):
            try:
                keys[name] = read_json(root / f"{name}.json")
            except (OSError, ValueError) as exc:
                raise FormatError(f"cannot read {str(root / (name + '.json'))!r}: {exc}") from exc
            if not isinstance(keys[name], list) or not all(isinstance(k, str) for k in keys[name]):
                raise FormatError(
                    f"{str(root / (name + '.json'))!r} must be a JSON list of strings"
                )
        uf, itf = arrays["user_factors"], arrays["item_factors"]
        n_u, n_i = len(keys["users"]), len(keys["items"])
        indptr = np.asarray(arrays["user_items_indptr"])
        indices = np.asarray(arrays["user_items_indices"])
        ok = (
            uf.ndim == 2 and itf.ndim == 2 and uf.shape[0] == n_u and itf.shape[0] == n_i
            and uf.shape[1] == itf.shape[1] and uf.dtype == np.float32 and itf.dtype == np.float32
            and indptr.shape == (n_u + 1,) and indices.shape == arrays["user_items_data"].shape
            and int(indptr[-1]) == indices.size and (indices.size == 0 or (
                int(indices.min()) >= 0 and int(indices.max()) < n_i))
            and bool(np.all(np.diff(indptr) >= 0))
        )  # fmt: skip
        if not ok:
            raise FormatError(
                f"{str(root)!r} is inconsistent: factors {uf.shape} / {itf.shape} for {n_u:,} "
                f"users and {n_i:,} items; save the model again"
            )
        m = sp.csr_matrix(
            (np.asarray(arrays["user_items_data"]), indices, indptr), shape=(n_u, n_i)
        )
        model._set_state(keys["users"], keys["items"], m, uf, itf)
        model.loss_history_ = list(state.get("loss_history", []))
        model.epochs_trained_ = int(state.get("epochs_trained", 0))
        return model

    # ------------------------------------------------------------------ subclass hooks
    def _validate(self) -> None:
        raise NotImplementedError

    def _train_new(self, m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, list[float], float]:
        raise NotImplementedError

    def _train_update(
        self, m: sp.csr_matrix, uf: np.ndarray, itf: np.ndarray, users: np.ndarray,
        items: np.ndarray,
    ) -> list[float]:  # fmt: skip
        raise NotImplementedError

    def _grow(self, factors: np.ndarray, n: int, user: bool) -> np.ndarray:
        raise NotImplementedError

    def _fold_in(self, cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
        raise NotImplementedError


# ====================================================================== BPR


@register("BPR")
class BPR(_Recommender):
    """Bayesian Personalised Ranking: matrix factorisation trained on (user, liked, other) triples.

    Each epoch trains as many triples ``(u, i, j)`` as there are stored
    interactions: ``(u, i)`` an interaction drawn uniformly, ``j`` an item
    the user has not interacted with (drawn uniformly or by popularity), by
    stochastic gradient ascent on ``log sigmoid(x_ui - x_uj)`` with L2
    regularisation (Rendle et al. 2009).  Items have a bias.  Weights do not
    matter to BPR (only which entries are stored).

    Parameters
    ----------
    factors : int, default 64
        Latent dimensions (the embeddings have ``factors + 1``: see Attributes).
    learning_rate : float, default 0.05
        SGD step at the start of training.
    min_learning_rate : float, default 0.005
        The step decays linearly to it over the run (equal to
        ``learning_rate`` for a constant step).
    regularization : float, default 0.01
        L2 weight on the rows touched by each update (biases included).
    epochs : int, default 100
        Passes; one pass trains ``nnz`` triples.
    negatives : {"uniform", "popularity"}, default "uniform"
        How ``j`` is drawn: every item alike, or in proportion to its
        interaction count.  Items the user has are redrawn (up to 16 times).
    workers : int or None, default None
        Training threads on the shared Hogwild engine (None: all cores).
    seed : int, default 1
        Seed of the initial factors and of every piece's draws.
    progress : bool, default True
        Show a progress bar when on a terminal.

    Attributes
    ----------
    user_factors_ : (n_users, factors + 1) float32
        User rows; the last column is 1.
    item_factors_ : (n_items, factors + 1) float32
        Item rows; the last column is the item bias, so a score is
        ``user_factors_[u] @ item_factors_[i]``.
    user_embeddings_, item_embeddings_ : Embeddings
        The same rows keyed by ``str(key)`` (for a Collection, or nearest
        neighbours).
    users_, items_ : list of str
        Keys of the rows.
    user_items_ : scipy.sparse.csr_matrix, (n_users, n_items) float32
        The training interactions (used to leave seen items out).
    loss_history_ : list of float
        Mean ``-log sigmoid(x_uij)`` per trained triple in each epoch (nats).
    training_time_ : float
        Seconds of training in :meth:`fit`.

    Notes
    -----
    Threads: each piece of ``16,384`` triples draws from its own seed (from
    ``(seed, epoch, piece)``), so ``workers=1`` is bit-identical run to
    run.  With ``workers > 1`` the threads update shared rows without locks
    (Hogwild, as ``implicit`` and word2vec do): the draws are the same but
    the order of updates to a row shared by two threads is not, so results
    differ slightly from run to run (their quality does not).

    :meth:`user_vector` (and :meth:`recommend_new_user`) folds a user in by
    SGD on that user's row only, items fixed: ``epochs * max(m, 50)`` triples
    (``m`` the user's items) at ``max(min_learning_rate, learning_rate / 10)``,
    starting from the mean user row.
    :meth:`partial_fit` trains ``epochs`` passes over the interactions of
    the users in the new data (old and new), items drawn from the whole
    catalogue; other users' rows stay as they were (items may move).

    References
    ----------
    S. Rendle, C. Freudenthaler, Z. Gantner, L. Schmidt-Thieme, "BPR: Bayesian
    Personalized Ranking from Implicit Feedback", UAI 2009, arXiv:1205.2618.

    Examples
    --------
    >>> data = read_interactions("movielens_100k")  # doctest: +SKIP
    >>> model = BPR(factors=64, epochs=100, seed=1).fit(data)  # doctest: +SKIP
    >>> ids, scores = model.recommend([1, 2], k=10)  # doctest: +SKIP
    """

    _NAME = "BPR"
    _PARAMS = (
        "factors", "learning_rate", "min_learning_rate", "regularization", "epochs",
        "negatives", "workers", "seed", "progress",
    )  # fmt: skip

    def __init__(
        self,
        *,
        factors: int = 64,
        learning_rate: float = 0.05,
        min_learning_rate: float = 0.005,
        regularization: float = 0.01,
        epochs: int = 100,
        negatives: str = "uniform",
        workers: int | None = None,
        seed: int = 1,
        progress: bool = True,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.min_learning_rate = min_learning_rate
        self.regularization = regularization
        self.epochs = epochs
        self.negatives = negatives
        self.workers = workers
        self.seed = seed
        self.progress = progress

    def _validate(self) -> None:
        check_int(self.factors, "factors", 1)
        check_real(self.learning_rate, "learning_rate", 0, low_open=True)
        check_real(self.min_learning_rate, "min_learning_rate", 0)
        check_real(self.regularization, "regularization", 0)
        check_int(self.epochs, "epochs", 1)
        check_choice(self.negatives, "negatives", ("uniform", "popularity"))
        check_int(self.workers, "workers", 1, allow_none=True)
        check_int(self.seed, "seed", 0)
        check_bool(self.progress, "progress")

    def _init(self, n: int, user: bool, seed: Any) -> np.ndarray:
        rng = np.random.default_rng(seed)
        f = int(self.factors)
        out = np.empty((n, f + 1), dtype=np.float32)
        out[:, :f] = (rng.random((n, f), dtype=np.float32) - np.float32(0.5)) / np.float32(f)
        out[:, f] = 1.0 if user else 0.0
        return out

    def _grow(self, factors: np.ndarray, n: int, user: bool) -> np.ndarray:
        out = np.empty((n, factors.shape[1]), dtype=np.float32)
        out[: factors.shape[0]] = factors
        if n > factors.shape[0]:
            out[factors.shape[0] :] = self._init(
                n - factors.shape[0], user, [self.seed, factors.shape[0], int(user)]
            )
        return out

    def _run(
        self, m: sp.csr_matrix, uf: np.ndarray, itf: np.ndarray, seed: int, desc: str
    ) -> _engine.TrainStats:
        from ..kernels.bpr import train_piece

        indptr, indices = m.indptr, m.indices
        rows = np.repeat(np.arange(m.shape[0], dtype=np.int32), np.diff(indptr))
        nnz = int(indices.size)
        popularity = self.negatives == "popularity"
        reg = np.float32(self.regularization)

        def pieces(epoch: int) -> Iterator[tuple[Any, int]]:
            for lo in range(0, nnz, _PIECE):
                n = min(_PIECE, nnz - lo)
                yield n, n

        def new_runner() -> Run:
            def run(n: int, a0: float, a1: float, piece_seed: int) -> tuple[float, int]:
                loss, trained, _ = train_piece(
                    indptr, indices, rows, uf, itf, n, popularity, reg, a0, a1,
                    np.uint64(piece_seed), _MAX_REDRAWS,
                )  # fmt: skip
                return loss, trained

            return run

        return _engine.train(
            pieces, new_runner, units_per_epoch=nnz, epochs=int(self.epochs),
            workers=self.effective_workers, seed=seed,
            learning_rate=float(self.learning_rate),
            min_learning_rate=float(self.min_learning_rate), desc=desc, unit="triples",
            loss_name="bpr loss", progress=self.progress,
        )  # fmt: skip

    def _train_new(self, m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, list[float], float]:
        uf = self._init(m.shape[0], True, [self.seed, 0])
        itf = self._init(m.shape[1], False, [self.seed, 1])
        stats = self._run(m, uf, itf, int(self.seed), "bpr")
        return uf, itf, stats.loss_history, stats.seconds

    def _train_update(
        self, m: sp.csr_matrix, uf: np.ndarray, itf: np.ndarray, users: np.ndarray,
        items: np.ndarray,
    ) -> list[float]:  # fmt: skip
        # only the rows of the touched users are sampled (the others are empty here)
        keep = np.zeros(m.shape[0], dtype=bool)
        keep[users] = True
        counts = np.where(keep, np.diff(m.indptr), 0)
        mask = np.repeat(keep, np.diff(m.indptr))
        indptr = np.zeros(m.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        sub = sp.csr_matrix((m.data[mask], m.indices[mask], indptr), shape=m.shape)
        stats = self._run(sub, uf, itf, int(self.seed) + int(m.nnz), "bpr partial_fit")
        return stats.loss_history

    def _fold_in(self, cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
        from ..kernels.bpr import train_user

        user = np.empty(self.item_factors_.shape[1], dtype=np.float32)
        user[:] = np.asarray(self.user_factors_).mean(axis=0)
        user[-1] = 1.0
        itf = np.ascontiguousarray(self.item_factors_)
        n_steps = int(self.epochs) * max(int(cols.size), 50)
        lr = max(float(self.min_learning_rate), 0.1 * float(self.learning_rate))
        train_user(
            user, cols, itf, n_steps, self.negatives == "popularity",
            np.asarray(self.user_items_.indices), np.float32(self.regularization), lr,
            np.uint64(_engine.piece_seed(int(self.seed), 0xF01D, int(cols.sum()))), _MAX_REDRAWS,
        )  # fmt: skip
        return user


# ====================================================================== ALS


@register("ALS")
class ALS(_Recommender):
    """Alternating least squares for implicit feedback, solved by conjugate gradient.

    Minimises ``sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + regularization (|X|^2
    + |Y|^2)`` over all user-item pairs, with ``p_ui = 1`` for a stored
    interaction (else 0) and confidence ``c_ui = 1 + alpha * r_ui`` (``r``:
    the stored weight; 1 elsewhere) (Hu, Koren & Volinsky 2008).  Each epoch
    solves every user row with the items fixed, then every item row with the
    users fixed, each by ``cg_steps`` conjugate-gradient steps from the
    current row (Takacs et al. 2011), rows in parallel.

    Parameters
    ----------
    factors : int, default 64
        Width of the user and item vectors.
    regularization : float, default 0.01
    alpha : float, default 1.0
        Confidence scale (> 0).
    epochs : int, default 15
        Alternations (users then items).
    cg_steps : int, default 3
        Conjugate-gradient steps per row and half-epoch (``factors`` steps
        solve each row exactly).
    workers : int or None, default None
        Threads (numba ``prange``); None: all cores.  The result does not
        depend on it: every row is solved by one thread from the same inputs.
    seed : int, default 1
        Seed of the initial factors.
    compute_loss : bool, default True
        Compute the objective after each epoch into ``loss_history_`` (costs
        about a sixth of an epoch); False stores NaN.
    progress : bool, default True
        Show a progress bar (epochs) when on a terminal.

    Attributes
    ----------
    user_factors_ : (n_users, factors) float32
    item_factors_ : (n_items, factors) float32
    user_embeddings_, item_embeddings_ : Embeddings
    users_, items_ : list of str
    user_items_ : scipy.sparse.csr_matrix, (n_users, n_items) float32
    loss_history_ : list of float
        The objective divided by ``n_users * n_items`` after each epoch.
    training_time_ : float
        Seconds of training in :meth:`fit`.

    Notes
    -----
    :meth:`user_vector` (and :meth:`recommend_new_user`) folds a user in with
    the exact closed-form solve of that user's row given the items (the
    least-squares problem above for one row, by ``numpy.linalg.solve``).
    :meth:`partial_fit` solves the rows of the users in the new data, then
    of their items, then the users again (``cg_steps * 3`` steps each).

    References
    ----------
    Y. Hu, Y. Koren, C. Volinsky, "Collaborative Filtering for Implicit
    Feedback Datasets", ICDM 2008.  G. Takacs, I. Pilaszy, D. Tikk,
    "Applications of the Conjugate Gradient Method for Implicit Feedback
    Collaborative Filtering", RecSys 2011.

    Examples
    --------
    >>> data = read_interactions("movielens_100k")  # doctest: +SKIP
    >>> model = ALS(factors=64, epochs=15, seed=1).fit(data)  # doctest: +SKIP
    >>> ids, scores = model.recommend_new_user([50, 181, 258], k=10)  # doctest: +SKIP
    """

    _NAME = "ALS"
    _PARAMS = (
        "factors", "regularization", "alpha", "epochs", "cg_steps", "workers", "seed",
        "compute_loss", "progress",
    )  # fmt: skip

    def __init__(
        self,
        *,
        factors: int = 64,
        regularization: float = 0.01,
        alpha: float = 1.0,
        epochs: int = 15,
        cg_steps: int = 3,
        workers: int | None = None,
        seed: int = 1,
        compute_loss: bool = True,
        progress: bool = True,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.epochs = epochs
        self.cg_steps = cg_steps
        self.workers = workers
        self.seed = seed
        self.compute_loss = compute_loss
        self.progress = progress

    def _validate(self) -> None:
        check_int(self.factors, "factors", 1)
        check_real(self.regularization, "regularization", 0)
        check_real(self.alpha, "alpha", 0, low_open=True)
        check_int(self.epochs, "epochs", 1)
        check_int(self.cg_steps, "cg_steps", 1)
        check_int(self.workers, "workers", 1, allow_none=True)
        check_int(self.seed, "seed", 0)
        check_bool(self.compute_loss, "compute_loss")
        check_bool(self.progress, "progress")

    def _init(self, n: int, seed: Any) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.random((n, int(self.factors)), dtype=np.float32) * np.float32(0.01)

    def _grow(self, factors: np.ndarray, n: int, user: bool) -> np.ndarray:
        out = np.empty((n, factors.shape[1]), dtype=np.float32)
        out[: factors.shape[0]] = factors
        if n > factors.shape[0]:
            out[factors.shape[0] :] = self._init(
                n - factors.shape[0], [self.seed, factors.shape[0], int(user)]
            )
        return out

    def _solve(self, m: sp.csr_matrix, rows: np.ndarray, other: np.ndarray, steps: int) -> None:
        from ..kernels.als import gram, solve_rows

        workers = self.effective_workers
        g = gram(other, float(self.regularization))
        solve_rows(
            m.indptr, m.indices, m.data, rows, other, g, np.float32(self.alpha), steps,
            max(1, min(4 * workers, rows.shape[0])),
        )  # fmt: skip

    def _loss(self, m: sp.csr_matrix, uf: np.ndarray, itf: np.ndarray) -> float:
        from ..kernels.als import loss

        if not self.compute_loss:
            return float("nan")
        return loss(m.indptr, m.indices, m.data, uf, itf, float(self.alpha),
                    float(self.regularization))  # fmt: skip

    def _threads(self) -> Any:
        import numba

        class _Threads:
            def __enter__(inner) -> None:  # noqa: N805
                inner.before = numba.get_num_threads()
                numba.set_num_threads(min(self.effective_workers, numba.config.NUMBA_NUM_THREADS))

            def __exit__(inner, *exc: object) -> None:  # noqa: N805
                numba.set_num_threads(inner.before)

        return _Threads()

    def _train_new(self, m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, list[float], float]:
        import time

        from tqdm.auto import tqdm

        uf = self._init(m.shape[0], [self.seed, 0])
        itf = self._init(m.shape[1], [self.seed, 1])
        mt = m.T.tocsr()
        mt.sort_indices()
        mt.indices = mt.indices.astype(np.int32, copy=False)
        history = []
        started = time.perf_counter()
        with self._threads():
            bar = tqdm(range(int(self.epochs)), desc="als", unit=" epochs",
                       disable=None if self.progress else True)  # fmt: skip
            for epoch in bar:
                self._solve(m, uf, itf, int(self.cg_steps))
                self._solve(mt, itf, uf, int(self.cg_steps))
                history.append(self._loss(m, uf, itf))
                logger.info("als epoch %d/%d: loss %.6f", epoch + 1, self.epochs, history[-1])
            bar.close()
        return uf, itf, history, time.perf_counter() - started

    def _train_update(
        self, m: sp.csr_matrix, uf: np.ndarray, itf: np.ndarray, users: np.ndarray,
        items: np.ndarray,
    ) -> list[float]:  # fmt: skip
        steps = 3 * int(self.cg_steps)
        mt = m.T.tocsr()
        mt.sort_indices()
        sub_u = m[users]
        sub_i = mt[items]
        with self._threads():
            for rows, sub, fixed, out in (
                (users, sub_u, itf, uf), (items, sub_i, uf, itf), (users, sub_u, itf, uf)
            ):  # fmt: skip
                block = np.ascontiguousarray(out[rows])
                sub.indices = sub.indices.astype(np.int32, copy=False)
                self._solve(sub, block, fixed, steps)
                out[rows] = block
        return [self._loss(m, uf, itf)]

    def _fold_in(self, cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
        y = np.asarray(self.item_factors_, dtype=np.float64)
        yu = y[cols]
        c = 1.0 + float(self.alpha) * weights.astype(np.float64)
        a = y.T @ y + float(self.regularization) * np.eye(y.shape[1])
        a += (yu * (c - 1.0)[:, None]).T @ yu
        b = yu.T @ c
        return np.linalg.solve(a, b).astype(np.float32)
