"""Vocabulary: word counts plus the tables word2vec-style trainers sample from.

References
----------
Mikolov, Sutskever, Chen, Corrado, Dean (2013). "Distributed Representations
of Words and Phrases and their Compositionality", NIPS 2013 (subsampling,
negative sampling with the unigram distribution raised to 3/4).
Morin & Bengio (2005). "Hierarchical Probabilistic Neural Network Language
Model" and the word2vec C tool (Huffman-coded hierarchical softmax).
Vose (1991). "A Linear Algorithm for Generating Random Numbers with a Given
Distribution" (the alias table used for negative sampling).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from ..errors import CorpusError, InvalidParameterError
from .corpus import EncodedCorpus, check_sentence, count_and_encode, encode_corpus

__all__ = ["HuffmanTree", "Vocabulary", "read_corpus"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HuffmanTree:
    """Binary Huffman codes over a vocabulary, as hierarchical softmax uses them.

    Attributes
    ----------
    codes : (n_words, max_depth) uint8
        Bit ``j`` of word ``i`` is ``codes[i, j]`` (root first); padded with 0.
    points : (n_words, max_depth) int32
        Inner node (row of the output matrix, ``0 .. n_words - 2``) at depth
        ``j`` on the path of word ``i``; padded with 0.
    lengths : (n_words,) int32
        Code length of each word.
    """

    codes: np.ndarray
    points: np.ndarray
    lengths: np.ndarray


class Vocabulary:
    """Words sorted by frequency with their counts.

    Parameters
    ----------
    words : sequence of str
        The words, most frequent first.
    counts : (n_words,) array of int
        Occurrences of each word in the training corpus.

    Attributes
    ----------
    words : list of str
    counts : (n_words,) int64
    word_to_index : dict of str to int
    total_words : int
        Sum of ``counts``.
    """

    def __init__(self, words: Sequence[str], counts: Sequence[int] | np.ndarray) -> None:
        self.words = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        if self.counts.shape != (len(self.words),):
            raise InvalidParameterError(
                f"counts must have shape ({len(self.words)},); got {self.counts.shape}"
            )
        self.word_to_index = {w: i for i, w in enumerate(self.words)}
        if len(self.word_to_index) != len(self.words):
            raise InvalidParameterError("words must be unique")

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.word_to_index

    def __repr__(self) -> str:
        return f"Vocabulary({len(self):,} words, {self.total_words:,} tokens)"

    @property
    def total_words(self) -> int:
        return int(self.counts.sum())

    # ------------------------------------------------------------------ building
    @staticmethod
    def count(
        corpus: Iterable[list[str]],
        max_vocab_size: int | None = None,
        progress: bool = True,
    ) -> tuple[Counter, int]:
        """Count tokens in ``corpus``; returns the counter and the number of tokens read.

        With ``max_vocab_size``, whenever more distinct words than that are
        held, words seen fewer than ``k`` times are dropped with ``k`` rising
        by one each time (word2vec's ``ReduceVocab``), bounding memory.
        """
        counter: Counter = Counter()
        n_tokens = 0
        prune_below = 1
        bar = tqdm(
            desc="counting words",
            unit=" words",
            unit_scale=True,
            disable=None if progress else True,
        )
        with bar:
            for position, sentence in enumerate(corpus):
                check_sentence(sentence, position)
                counter.update(sentence)
                n_tokens += len(sentence)
                bar.update(len(sentence))
                if max_vocab_size is not None and len(counter) > max_vocab_size:
                    for word in [w for w, c in counter.items() if c <= prune_below]:
                        del counter[word]
                    prune_below += 1
        return counter, n_tokens

    @classmethod
    def from_counts(
        cls,
        counter: Counter | dict[str, int],
        min_count: int = 5,
        max_vocab_size: int | None = None,
        source: str = "the corpus",
    ) -> Vocabulary:
        """Keep words seen at least ``min_count`` times, most frequent first.

        Ties keep first-seen order, so the result is deterministic.  With
        ``max_vocab_size`` only that many most frequent words are kept.

        Raises
        ------
        CorpusError
            If the counter is empty, or no word reaches ``min_count``.
        """
        if not counter:
            raise CorpusError(f"{source} is empty: it holds no tokens; check the file or iterable")
        kept = [(w, c) for w, c in counter.items() if c >= min_count]
        if not kept:
            top_word, top_count = max(counter.items(), key=lambda wc: wc[1])
            raise CorpusError(
                f"no word of {source} occurs at least min_count={min_count} times "
                f"({len(counter):,} distinct words; the most frequent, {top_word!r}, occurs "
                f"{top_count} times); lower min_count or train on more text"
            )
        kept.sort(key=lambda wc: -wc[1])  # stable: ties keep first-seen order
        if max_vocab_size is not None:
            kept = kept[:max_vocab_size]
        return cls([w for w, _ in kept], [c for _, c in kept])

    def extended(self, counter: Counter | dict[str, int], min_count: int) -> Vocabulary:
        """Return a vocabulary with the counts of ``counter`` added.

        Known words keep their index and gain the new counts; new words that
        reach ``min_count`` in ``counter`` are appended, most frequent first.
        """
        counts = self.counts.copy()
        new: list[tuple[str, int]] = []
        for word, c in counter.items():
            i = self.word_to_index.get(word)
            if i is not None:
                counts[i] += c
            elif c >= min_count:
                new.append((word, c))
        new.sort(key=lambda wc: -wc[1])
        return Vocabulary(
            self.words + [w for w, _ in new],
            np.concatenate([counts, np.asarray([c for _, c in new], dtype=np.int64)]),
        )

    # ------------------------------------------------------------------ tables
    def keep_probabilities(self, sample: float) -> np.ndarray:
        """Probability of keeping each occurrence under frequent-word subsampling.

        word2vec C's formula: with ``f`` the word's count and ``t = sample *
        total_words``, keep with probability ``(sqrt(f / t) + 1) * t / f``,
        capped at 1.  ``sample=0`` keeps every word.

        Returns
        -------
        (n_words,) float32
        """
        if sample < 0:
            raise InvalidParameterError(f"sample must be >= 0; got {sample}")
        if sample == 0:
            return np.ones(len(self), dtype=np.float32)
        threshold = sample * self.total_words
        f = self.counts.astype(np.float64)
        keep = (np.sqrt(f / threshold) + 1.0) * threshold / f
        return np.minimum(keep, 1.0).astype(np.float32)

    def noise_alias_table(self, exponent: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
        """Alias table (Vose 1991) of the noise distribution ``count ** exponent``.

        Draw: ``i = uniform_int(n)``, then ``i`` if ``uniform01 < prob[i]`` else
        ``alias[i]``; exact and O(1) per draw.

        Returns
        -------
        prob : (n_words,) float32
        alias : (n_words,) int32
        """
        weights = self.counts.astype(np.float64) ** exponent
        n = weights.size
        scaled = weights * (n / weights.sum())
        prob = np.ones(n, dtype=np.float64)
        alias = np.arange(n, dtype=np.int32)
        small = [i for i in range(n) if scaled[i] < 1.0]
        large = [i for i in range(n) if scaled[i] >= 1.0]
        while small and large:
            s, g = small.pop(), large.pop()
            prob[s] = scaled[s]
            alias[s] = g
            scaled[g] = scaled[g] + scaled[s] - 1.0
            (small if scaled[g] < 1.0 else large).append(g)
        return prob.astype(np.float32), alias

    def huffman_tree(self) -> HuffmanTree:
        """Huffman codes of the words by count, built as the word2vec C tool builds them.

        Raises
        ------
        InvalidParameterError
            If the vocabulary has fewer than 2 words.
        """
        n = len(self)
        if n < 2:
            raise InvalidParameterError(
                "hierarchical softmax needs at least 2 words in the vocabulary; "
                f"got {n}; lower min_count or use objective='negative_sampling'"
            )
        # Two-queue construction over words sorted by count (descending) gives an
        # O(n) Huffman tree; nodes n .. 2n-2 are inner nodes.
        order = np.argsort(-self.counts, kind="stable")
        count = np.empty(2 * n - 1, dtype=np.int64)
        count[:n] = self.counts[order][::-1]  # ascending
        parent = np.zeros(2 * n - 1, dtype=np.int64)
        binary = np.zeros(2 * n - 1, dtype=np.uint8)
        leaf, inner = 0, n  # next unmerged leaf, next unmerged inner node
        for new in range(n, 2 * n - 1):
            picks = []
            for _ in range(2):
                if leaf < n and (inner >= new or count[leaf] <= count[inner]):
                    picks.append(leaf)
                    leaf += 1
                else:
                    picks.append(inner)
                    inner += 1
            count[new] = count[picks[0]] + count[picks[1]]
            parent[picks[0]] = parent[picks[1]] = new
            binary[picks[1]] = 1
        lengths_sorted = np.zeros(n, dtype=np.int32)
        paths: list[tuple[list[int], list[int]]] = []
        root = 2 * n - 2
        for leaf_id in range(n):
            codes, points = [], []
            node = leaf_id
            while node != root:
                codes.append(int(binary[node]))
                node = int(parent[node])
                points.append(node - n)
            paths.append((codes[::-1], points[::-1]))
            lengths_sorted[leaf_id] = len(codes)
        depth = int(lengths_sorted.max())
        codes_arr = np.zeros((n, depth), dtype=np.uint8)
        points_arr = np.zeros((n, depth), dtype=np.int32)
        lengths = np.zeros(n, dtype=np.int32)
        # leaf_id counts from the rarest word; map back to vocabulary indices
        word_of_leaf = order[::-1]
        for leaf_id, (codes, points) in enumerate(paths):
            w = word_of_leaf[leaf_id]
            k = len(codes)
            codes_arr[w, :k] = codes
            points_arr[w, :k] = points
            lengths[w] = k
        return HuffmanTree(codes_arr, points_arr, lengths)


def read_corpus(
    corpus: Iterable[list[str]],
    choose: Callable[[dict[str, int]], Vocabulary],
    max_vocab_size: int | None = None,
    progress: bool = True,
) -> tuple[Vocabulary, int, EncodedCorpus]:
    """Count the words of ``corpus``, choose the vocabulary, and encode the corpus with it.

    Without ``max_vocab_size`` the text is read once (:func:`count_and_encode`:
    first-seen ids written while counting, then mapped to the vocabulary);
    with it, words are counted with word2vec's pruning (bounded memory) and
    the text is read a second time to encode it.  Both give the same counts,
    vocabulary and stream.

    Parameters
    ----------
    corpus : iterable of list of str
        Sentences of tokens (re-iterable when ``max_vocab_size`` is set).
    choose : callable
        ``choose(counts) -> Vocabulary``; ``counts`` maps each word to its
        count, in first-seen order.  Its exceptions propagate (no file is left).
    max_vocab_size : int or None
    progress : bool

    Returns
    -------
    vocabulary : Vocabulary
    n_tokens : int
        Tokens read.
    encoded : EncodedCorpus
        Call its ``remove`` when done.
    """
    if max_vocab_size is not None:
        counter, n_tokens = Vocabulary.count(corpus, max_vocab_size, progress)
        vocab = choose(counter)
        del counter
        return vocab, n_tokens, encode_corpus(corpus, vocab.word_to_index)
    counts, n_tokens, first_seen = count_and_encode(corpus, progress=progress)
    try:
        vocab = choose(counts)
        del counts
        return vocab, n_tokens, first_seen.encode(vocab.word_to_index)
    except BaseException:
        first_seen.remove()
        raise
