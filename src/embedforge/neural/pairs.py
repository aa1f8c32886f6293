"""Training pairs for sentence encoders: readers, hard-negative mining, a duplicate-free batch order.

Importing this module does not import PyTorch.

- :class:`TrainingPairs`: (anchor, positive[, negative]) texts, or scored
  (sentence1, sentence2, score) pairs.
- :func:`read_training_pairs`: JSONL / TSV / CSV files, or the data set names
  ``"scifact"`` (train split) and ``"stsb"`` (train split, scores / 5).
- :func:`mine_hard_negatives`: for each pair, the best-ranked text that is not
  a known positive of its anchor, found with TF-IDF or an encoder's own vectors.
- :func:`no_duplicates_order`: a permutation of the pairs whose consecutive
  batches never hold the same text twice (a duplicate would be an in-batch
  false negative of multiple-negatives ranking).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, InvalidParameterError

__all__ = [
    "TrainingPairs",
    "mine_hard_negatives",
    "no_duplicates_order",
    "read_training_pairs",
]

DATASETS = ("scifact", "stsb")

# Accepted column names, in the order of TrainingPairs' fields.
_ANCHOR = ("query", "anchor", "sentence1", "text1")
_POSITIVE = ("positive", "document", "sentence2", "text2")
_NEGATIVE = ("negative",)
_SCORE = ("score", "label", "similarity")


@dataclass
class TrainingPairs:
    """Text pairs to fine-tune a sentence encoder on.

    Attributes
    ----------
    anchors : list of str, length n
        Queries (retrieval) or first sentences (similarity).
    positives : list of str, length n
        The relevant document of each query, or the second sentence.
    negatives : list of str or None
        One hard negative per pair, or None.
    scores : np.ndarray of shape (n,), float32, or None
        Gold similarity of each pair (scored pairs), or None.
    corpus : list of str
        Extra texts to mine hard negatives from (e.g. SciFact's whole corpus);
        the positives are always candidates.
    source : str
        Where the pairs came from (a path or a data set name), recorded in the
        saved model.
    """

    anchors: list[str]
    positives: list[str]
    negatives: list[str] | None = None
    scores: np.ndarray | None = None
    corpus: list[str] = field(default_factory=list)
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.anchors)
        if n == 0:
            raise InvalidParameterError("TrainingPairs needs at least one pair; got none")
        lengths = {"positives": len(self.positives)}
        if self.negatives is not None:
            lengths["negatives"] = len(self.negatives)
        if self.scores is not None:
            self.scores = np.asarray(self.scores, dtype=np.float32)
            lengths["scores"] = len(self.scores)
        bad = {k: v for k, v in lengths.items() if v != n}
        if bad:
            raise InvalidParameterError(
                f"TrainingPairs: anchors has {n} rows but {bad}; every column needs one row per pair"
            )
        if self.negatives is not None and self.scores is not None:
            raise InvalidParameterError(
                "TrainingPairs holds either negatives (retrieval triplets) or scores (scored "
                "pairs), not both"
            )

    def __len__(self) -> int:
        return len(self.anchors)

    @property
    def scored(self) -> bool:
        """bool: whether the pairs carry gold scores."""
        return self.scores is not None


def _pick(names: Sequence[str], choices: Sequence[str]) -> str | None:
    lowered = {n.strip().lower(): n for n in names}
    return next((lowered[c] for c in choices if c in lowered), None)


def _columns(header: Sequence[str], where: str) -> tuple[str, str, str | None, str | None]:
    anchor, positive = _pick(header, _ANCHOR), _pick(header, _POSITIVE)
    if anchor is None or positive is None:
        raise FormatError(
            f"{where}: the header must name the columns query/anchor/sentence1 and "
            f"positive/sentence2 (optionally negative, or score); got {list(header)!r}"
        )
    negative, score = _pick(header, _NEGATIVE), _pick(header, _SCORE)
    if negative is not None and score is not None:
        raise FormatError(f"{where}: give a negative column or a score column, not both")
    return anchor, positive, negative, score


def _score(value: object, where: str) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FormatError(f"{where}: the score {value!r} is not a number") from None
    if not np.isfinite(out):
        raise FormatError(f"{where}: the score {value!r} is not finite")
    return out


def _text(value: object, column: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FormatError(f"{where}: {column!r} must be a non-empty string; got {value!r:.60}")
    return value


def _read_file(path: Path) -> TrainingPairs:
    rows: list[tuple[str, str, str | None, float | None]] = []
    suffix = path.suffix.lower()
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            if suffix in (".jsonl", ".json"):
                for line_no, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    where = f"{str(path)!r}, line {line_no}"
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise FormatError(f"{where}: not a JSON object ({exc.msg})") from None
                    if not isinstance(obj, dict):
                        raise FormatError(f"{where}: expected a JSON object; got {line!r:.60}")
                    a, p, n, s = _columns(list(obj), where)
                    rows.append(
                        (
                            _text(obj[a], a, where),
                            _text(obj[p], p, where),
                            None if n is None else _text(obj[n], n, where),
                            None if s is None else _score(obj[s], where),
                        )
                    )
            elif suffix in (".tsv", ".csv", ".txt"):
                delimiter = "," if suffix == ".csv" else "\t"
                reader = csv.reader(fh, delimiter=delimiter)
                header = next(reader, None)
                if header is None:
                    raise FormatError(f"{str(path)!r} is empty; expected a header row")
                a, p, n, s = _columns(header, f"{str(path)!r}, line 1")
                pos = {name: i for i, name in enumerate(header)}
                for row in reader:
                    where = f"{str(path)!r}, line {reader.line_num}"
                    if not row or not any(x.strip() for x in row):
                        continue
                    if len(row) != len(header):
                        raise FormatError(
                            f"{where}: {len(row)} fields, but the header has {len(header)}"
                        )
                    rows.append(
                        (
                            _text(row[pos[a]], a, where),
                            _text(row[pos[p]], p, where),
                            None if n is None else _text(row[pos[n]], n, where),
                            None if s is None else _score(row[pos[s]], where),
                        )
                    )
            else:
                raise InvalidParameterError(
                    f"pairs file {str(path)!r} must end in .jsonl, .tsv or .csv; got {suffix!r}"
                )
    except UnicodeDecodeError as exc:
        raise FormatError(f"{str(path)!r} is not UTF-8 text ({exc.reason})") from None
    if not rows:
        raise FormatError(f"{str(path)!r} holds no pairs")
    kinds = {(r[2] is not None, r[3] is not None) for r in rows}
    if len(kinds) > 1:
        raise FormatError(
            f"{str(path)!r}: some rows have a negative or a score and others not; every row "
            "needs the same fields"
        )
    has_negative, has_score = kinds.pop()
    return TrainingPairs(
        anchors=[r[0] for r in rows],
        positives=[r[1] for r in rows],
        negatives=[r[2] for r in rows] if has_negative else None,  # type: ignore[misc]
        scores=np.array([r[3] for r in rows], dtype=np.float32) if has_score else None,
        source=str(path),
    )


def read_training_pairs(
    source: str | os.PathLike[str], *, data_dir: str | os.PathLike[str] | None = None
) -> TrainingPairs:
    """Read fine-tuning pairs from a file or a data set name.

    Parameters
    ----------
    source : str or path-like
        - a ``.jsonl`` file, one object per line with ``query`` (or ``anchor``)
          and ``positive`` [and ``negative``], or ``sentence1``, ``sentence2``
          and ``score``;
        - a ``.tsv`` / ``.csv`` file whose header row names the same columns;
        - ``"scifact"``: SciFact's train split (809 queries, 919 judged pairs),
          pairs ``(query, title + " " + text)``, the corpus kept for mining;
        - ``"stsb"``: STS-B's train split (5,749 pairs), scores divided by 5
          into [0, 1].
    data_dir : str or path-like, optional
        Local data set mirror (default ``EMBEDFORGE_DATA_DIR``).

    Returns
    -------
    TrainingPairs

    Raises
    ------
    FormatError
        A malformed row (the message names the file and line) or mixed rows.
    InvalidParameterError
        An unknown file suffix.
    DatasetError
        A data set that cannot be found.
    """
    name = os.fspath(source)
    if isinstance(source, str) and name.lower() in DATASETS and not Path(name).exists():
        return _read_dataset(name.lower(), data_dir)
    path = Path(source)
    if not path.is_file():
        raise InvalidParameterError(
            f"pairs {name!r} is neither a file nor one of the data sets {', '.join(DATASETS)}"
        )
    return _read_file(path)


def _read_dataset(name: str, data_dir: str | os.PathLike[str] | None) -> TrainingPairs:
    from ..datasets import resolve_path

    root = resolve_path(name, "directory", data_dir=data_dir)
    if name == "stsb":
        from ..evaluate.sts import read_stsb

        s1, s2, scores = read_stsb(root, split="train")
        return TrainingPairs(s1, s2, scores=scores / 5.0, source="stsb (train)")
    from ..evaluate.retrieval import read_beir

    beir = read_beir(root, split="train")
    anchors, positives = [], []
    for qid in sorted(beir.qrels):
        if qid not in beir.queries:
            continue
        for did, rel in sorted(beir.qrels[qid].items()):
            if rel > 0 and did in beir.corpus:
                anchors.append(beir.queries[qid])
                positives.append(beir.corpus[did].text)
    corpus = [beir.corpus[d].text for d in sorted(beir.corpus)]
    return TrainingPairs(anchors, positives, corpus=corpus, source="scifact (train)")


def mine_hard_negatives(
    pairs: TrainingPairs, method: str = "tfidf", *, encoder: Any = None, batch_size: int = 64
) -> TrainingPairs:
    """Add one hard negative per pair: the best-ranked candidate that is no known positive.

    Candidates are the distinct positives and ``pairs.corpus``; an anchor's
    known positives (every positive paired with the same anchor text) are
    excluded, so a relevant document is never used as its negative.

    Parameters
    ----------
    pairs : TrainingPairs
        Unscored pairs.
    method : {"tfidf", "self"}, default "tfidf"
        ``"tfidf"``: :class:`embedforge.text.classic.TfIdf` fitted on the
        candidates, exact sparse search.  ``"self"``: ``encoder``'s vectors in a
        flat :class:`embedforge.search.VectorIndex` (cosine).
    encoder : Encoder, optional
        Needed for ``"self"`` (e.g. the base model being fine-tuned).
    batch_size : int, default 64
        Texts per ``encoder.encode`` call.

    Returns
    -------
    TrainingPairs
        A copy with ``negatives`` filled; a pair whose anchor has every
        candidate as a positive keeps none, so it is dropped (logged).

    Raises
    ------
    InvalidParameterError
        Scored pairs, an unknown method, or ``"self"`` without an encoder.
    """
    import logging

    if pairs.scored:
        raise InvalidParameterError(
            "hard negatives are for (anchor, positive) pairs, not scored ones"
        )
    if method not in ("tfidf", "self"):
        raise InvalidParameterError(f"method must be 'tfidf' or 'self'; got {method!r}")
    if method == "self" and encoder is None:
        raise InvalidParameterError("method='self' needs encoder= (the model to mine with)")
    candidates = list(dict.fromkeys([*pairs.positives, *pairs.corpus]))
    row_of = {t: i for i, t in enumerate(candidates)}
    anchors = list(dict.fromkeys(pairs.anchors))
    known: dict[str, set[int]] = {}
    for a, p in zip(pairs.anchors, pairs.positives, strict=True):
        known.setdefault(a, set()).add(row_of[p])
    depth = min(len(candidates), 1 + max(len(v) for v in known.values()))
    if method == "tfidf":
        from ..evaluate.retrieval import search_exact
        from ..text.classic import TfIdf

        tfidf = TfIdf().fit(candidates)
        _, rows = search_exact(tfidf.encode_sparse(anchors), tfidf.encode_sparse(candidates), depth)
    else:
        from ..search.index import VectorIndex

        docs = np.asarray(encoder.encode(candidates, batch_size=batch_size), dtype=np.float32)
        queries = np.asarray(encoder.encode(anchors, batch_size=batch_size), dtype=np.float32)
        index = VectorIndex(docs.shape[1])
        index.add(np.arange(len(candidates)), docs)
        _, rows = index.search(queries, depth)
    negative_of: dict[str, str] = {}
    for a, ranked in zip(anchors, rows, strict=True):
        hit = next((int(r) for r in ranked if r >= 0 and int(r) not in known[a]), None)
        if hit is not None:
            negative_of[a] = candidates[hit]
    keep = [i for i, a in enumerate(pairs.anchors) if a in negative_of]
    if len(keep) < len(pairs):
        logging.getLogger(__name__).warning(
            "%d of %d pairs have no candidate that is not a positive; dropped",
            len(pairs) - len(keep), len(pairs),
        )  # fmt: skip
    return TrainingPairs(
        anchors=[pairs.anchors[i] for i in keep],
        positives=[pairs.positives[i] for i in keep],
        negatives=[negative_of[pairs.anchors[i]] for i in keep],
        corpus=pairs.corpus,
        source=f"{pairs.source} + {method} hard negatives",
    )


def no_duplicates_order(
    pairs: TrainingPairs, batch_size: int, rng: np.random.Generator
) -> np.ndarray:
    """A shuffled order of the pairs in which no batch holds the same text twice.

    Consecutive runs of ``batch_size`` rows of the result form the batches.
    Pairs are taken in a random order, those whose texts repeat most among
    the pairs left first; one whose texts are already in the batch being
    filled waits for a later batch (as sentence-transformers'
    ``NoDuplicatesBatchSampler`` does).  Only the last batches may hold
    duplicates, when nothing else is left.

    Parameters
    ----------
    pairs : TrainingPairs
    batch_size : int
    rng : np.random.Generator

    Returns
    -------
    np.ndarray of shape (n,), int64
        A permutation of ``range(len(pairs))``.
    """
    columns = [pairs.anchors, pairs.positives]
    if pairs.negatives is not None:
        columns.append(pairs.negatives)
    from collections import Counter

    waiting = [int(i) for i in rng.permutation(len(pairs))]
    out: list[int] = []
    while waiting:
        # the pairs whose texts repeat most among those left go first (stable: random otherwise),
        # so that the frequent texts are spread over the batches instead of piling up at the end
        left = Counter(t for i in waiting for t in {col[i] for col in columns})
        waiting.sort(key=lambda i: -max(left[col[i]] for col in columns))
        batch: list[int] = []
        seen: set[str] = set()
        later: list[int] = []
        for i in waiting:
            texts = {col[i] for col in columns}
            if len(batch) < batch_size and not (texts & seen) and len(texts) == len(columns):
                batch.append(i)
                seen |= texts
            else:
                later.append(i)
        if len(batch) < batch_size:  # nothing else fits: fill up, so batches stay aligned
            fill = batch_size - len(batch)
            batch, later = batch + later[:fill], later[fill:]
        out += batch
        waiting = later
    return np.asarray(out, dtype=np.int64)
