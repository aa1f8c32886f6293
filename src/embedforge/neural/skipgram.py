"""SoftmaxSkipGram: the classic neural word-embedding model in PyTorch, trained in batches.

``nn.Embedding(vocab, dim) -> nn.Linear(dim, vocab)``: predict each context word
of a centre word with a softmax over the vocabulary, trained with Adam on
batches of (centre, context) pairs drawn from our corpus reader and
vocabulary, with word2vec's subsampling and shrunk windows.  For large
vocabularies the same model trains with negative sampling or sampled softmax.
Importing this module does not import PyTorch (:meth:`fit` and :meth:`load` do).

References
----------
Mikolov, Chen, Corrado & Dean (2013). "Efficient Estimation of Word
Representations in Vector Space", arXiv:1301.3781.
Mikolov, Sutskever, Chen, Corrado & Dean (2013). "Distributed Representations
of Words and Phrases and their Compositionality", arXiv:1310.4546.
Jean, Cho, Memisevic & Bengio (2015). "On Using Very Large Target Vocabulary
for Neural Machine Translation", arXiv:1412.2007.
Kingma & Ba (2015). "Adam: A Method for Stochastic Optimization", arXiv:1412.6980.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._persist import open_saved, read_arrays, restore_training, save_directory, training_state
from .._registry import register
from .._validation import Params, check_bool, check_choice, check_int, check_real
from ..embeddings import Embeddings
from ..errors import FormatError, NotFittedError
from ..text.corpus import as_corpus
from ..text.vocabulary import Vocabulary, read_corpus
from ._torch import require_torch, resolve_device

__all__ = ["SoftmaxSkipGram", "skipgram_pairs"]

logger = logging.getLogger(__name__)

_OBJECTIVES = ("softmax", "negative_sampling", "sampled_softmax")
_FORMAT_VERSION = 1
_PIECE_WORDS = 200_000  # corpus words turned into pairs (and shuffled) at a time


def skipgram_pairs(
    tokens: np.ndarray, keep_prob: np.ndarray, window: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(centre, context) pairs of a token stream, as word2vec's skip-gram draws them.

    Each word is kept with probability ``keep_prob[word]`` (subsampling); each
    kept centre word draws a window ``b`` uniformly from 1..``window`` and pairs
    with the kept words at most ``b`` positions away in the same sentence.

    Parameters
    ----------
    tokens : (n,) int32
        Word ids; ``-1`` ends a sentence.
    keep_prob : (n_words,) float
    window : int
    rng : numpy.random.Generator
        Draws, in order: one uniform per word (subsampling), one window per kept word.

    Returns
    -------
    centre, context : (n_pairs,) int64
        Ordered by centre position, then by offset ``-b..-1, 1..b``.
    """
    tokens = np.asarray(tokens)
    sentence = np.cumsum(tokens < 0)
    is_word = tokens >= 0
    words, sentence = tokens[is_word], sentence[is_word]
    kept = rng.random(words.shape[0]) < keep_prob[words]
    words, sentence = words[kept].astype(np.int64), sentence[kept]
    n = words.shape[0]
    span = rng.integers(1, window + 1, size=n)
    centres, contexts, positions, offsets = [], [], [], []
    pos = np.arange(n)
    for offset in [*range(-window, 0), *range(1, window + 1)]:
        lo, hi = max(0, -offset), min(n, n - offset)
        i = pos[lo:hi]
        ok = (sentence[i] == sentence[i + offset]) & (span[i] >= abs(offset))
        i = i[ok]
        centres.append(words[i])
        contexts.append(words[i + offset])
        positions.append(i)
        offsets.append(np.full(i.shape[0], offset))
    centre, context = np.concatenate(centres), np.concatenate(contexts)
    order = np.lexsort((np.concatenate(offsets), np.concatenate(positions)))
    return centre[order], context[order]


@register("SoftmaxSkipGram")
class SoftmaxSkipGram(Params):
    """Skip-gram word vectors from ``nn.Embedding -> nn.Linear`` trained with Adam, in PyTorch.

    The constructor only stores the hyper-parameters; :meth:`fit` reads the
    corpus, trains and returns the model, whose word vectors (the embedding
    layer) are :attr:`wv`.

    Parameters
    ----------
    dim : int, default 100
    window : int, default 5
        Largest distance between the centre and a context word; each centre
        word draws its window from 1..``window`` (word2vec's shrunk windows).
    objective : {"softmax", "negative_sampling", "sampled_softmax"}, default "softmax"
        ``"softmax"``: cross-entropy over the full vocabulary (cost per pair
        grows with the vocabulary); the sampled objectives cost ``negative + 1``
        output rows per pair (negative sampling) or ``negative`` shared rows
        per batch (sampled softmax), for large vocabularies.
    negative : int, default 5
        Noise words per pair (negative sampling) or sampled words per batch
        (sampled softmax; e.g. 1024).
    ns_exponent : float, default 0.75
        Noise distribution ``count ** ns_exponent``.
    sample : float, default 1e-3
        Subsampling threshold (word2vec's); 0 disables it.
    min_count : int, default 5
    max_vocab_size : int or None
    epochs : int, default 1
    batch_size : int, default 1024
        Pairs per Adam step.
    learning_rate : float, default 1e-3
        Adam's step size at the start; it decays linearly to 0 over the run.
    max_seconds : float or None, default None
        A wall-clock budget for training, in seconds (reading the corpus
        excluded): the learning rate then decays linearly in whichever of
        words or seconds is further along, and training stops when the budget
        is spent, mid-epoch if need be, so a slow objective can be compared
        with word2vec "per minute" on a large corpus.  A budgeted run is not
        bit-reproducible (where it stops depends on the machine); ``None``
        trains all ``epochs``.
    device : {"auto", "cpu", "cuda"}, default "auto"
    workers : int or None
        PyTorch CPU threads during training (None: PyTorch's default).
    seed : int, default 1
    progress : bool, default True

    Attributes
    ----------
    wv : Embeddings
        Word vectors (the embedding layer), most frequent word first, with counts.
    vocabulary_ : Vocabulary
    output_weight_ : (n_words, dim) float32
    output_bias_ : (n_words,) float32
    loss_history_ : list of float
        Mean loss per pair in each epoch (nats); a last, partial epoch cut
        short by ``max_seconds`` has its own entry.
    pairs_per_second_ : float
    training_time_ : float
        Seconds of the last :meth:`fit` (reading the corpus excluded).
    epochs_trained_ : int
        Epochs completed (fewer than ``epochs`` when ``max_seconds`` stopped the run).
    words_trained_ : int
        Corpus words passed through, over all epochs (the last one partly when
        ``max_seconds`` stopped it).

    Examples
    --------
    >>> model = SoftmaxSkipGram(dim=100, epochs=1).fit("text8")  # doctest: +SKIP
    >>> model.wv.most_similar("king", k=3)  # doctest: +SKIP
    """

    _PARAMS = (
        "dim", "window", "objective", "negative", "ns_exponent", "sample", "min_count",
        "max_vocab_size", "epochs", "batch_size", "learning_rate", "max_seconds", "device",
        "workers", "seed", "progress",
    )  # fmt: skip

    def __init__(
        self,
        *,
        dim: int = 100,
        window: int = 5,
        objective: str = "softmax",
        negative: int = 5,
        ns_exponent: float = 0.75,
        sample: float = 1e-3,
        min_count: int = 5,
        max_vocab_size: int | None = None,
        epochs: int = 1,
        batch_size: int = 1024,
        learning_rate: float = 1e-3,
        max_seconds: float | None = None,
        device: str = "auto",
        workers: int | None = None,
        seed: int = 1,
        progress: bool = True,
    ) -> None:
        self.dim = dim
        self.window = window
        self.objective = objective
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.sample = sample
        self.min_count = min_count
        self.max_vocab_size = max_vocab_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_seconds = max_seconds
        self.device = device
        self.workers = workers
        self.seed = seed
        self.progress = progress

    def _validate(self) -> None:
        check_int(self.dim, "dim", 1)
        check_int(self.window, "window", 1)
        check_choice(self.objective, "objective", _OBJECTIVES)
        check_int(self.negative, "negative", 1)
        check_real(self.ns_exponent, "ns_exponent")
        check_real(self.sample, "sample", 0, 1, high_open=True)
        check_int(self.min_count, "min_count", 1)
        check_int(self.max_vocab_size, "max_vocab_size", 1, allow_none=True)
        check_int(self.epochs, "epochs", 1)
        check_int(self.batch_size, "batch_size", 1)
        check_real(self.learning_rate, "learning_rate", 0, low_open=True)
        if self.max_seconds is not None:
            check_real(self.max_seconds, "max_seconds", 0, low_open=True)
        if not isinstance(self.device, str) or not (
            self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")
        ):
            check_choice(self.device, "device", ("auto", "cpu", "cuda"))
        check_int(self.workers, "workers", 1, allow_none=True)
        check_int(self.seed, "seed", 0)
        check_bool(self.progress, "progress")

    # ------------------------------------------------------------------ fitting
    def fit(self, corpus: str | os.PathLike[str] | Iterable[list[str]]) -> SoftmaxSkipGram:
        """Train on ``corpus`` (a text file, one sentence per line, or an iterable of token lists).

        Returns
        -------
        SoftmaxSkipGram
            ``self``.

        Raises
        ------
        InvalidParameterError
            A hyper-parameter is out of range (the message names it), or
            ``device="cuda"`` without CUDA.
        CorpusError
            The corpus is missing, empty, or no word reaches ``min_count``.
        MissingDependencyError
            PyTorch is not installed.
        """
        self._validate()
        torch = require_torch("SoftmaxSkipGram")
        from .networks import SkipGramNet

        device = resolve_device(self.device)
        corpus = as_corpus(corpus)
        source = repr(str(corpus.path)) if hasattr(corpus, "path") else "the corpus"
        vocab, n_tokens, encoded = read_corpus(
            corpus,
            lambda counts: Vocabulary.from_counts(
                counts, self.min_count, self.max_vocab_size, source=source
            ),
            self.max_vocab_size,
            self.progress,
        )
        threads = torch.get_num_threads()
        try:
            if self.workers is not None:
                torch.set_num_threads(int(self.workers))
            torch.manual_seed(int(self.seed))
            net = SkipGramNet(len(vocab), int(self.dim)).to(device)
            losses, seconds, n_pairs, words, epochs = self._train(
                torch, net, vocab, encoded, device
            )
        finally:
            encoded.remove()
            torch.set_num_threads(threads)
        self.vocabulary_ = vocab
        vectors = net.embedding.weight.detach().cpu().numpy().astype(np.float32, copy=True)
        self.wv = Embeddings._from_trusted(vocab.words, vectors, vocab.counts, vocab.word_to_index)
        self.output_weight_ = net.output.weight.detach().cpu().numpy().astype(np.float32)
        self.output_bias_ = net.output.bias.detach().cpu().numpy().astype(np.float32)
        self.loss_history_ = losses
        self.training_time_ = seconds
        self.pairs_per_second_ = n_pairs / max(seconds, 1e-9)
        self.epochs_trained_ = epochs
        self.words_trained_ = words
        return self

    def _train(self, torch: Any, net: Any, vocab: Vocabulary, encoded: Any, device: Any):
        rng = np.random.default_rng(int(self.seed))
        gen = torch.Generator(device=device).manual_seed(int(self.seed))
        keep = vocab.keep_probabilities(float(self.sample))
        noise = np.asarray(vocab.counts, dtype=np.float64) ** float(self.ns_exponent)
        noise /= noise.sum()
        noise_t = torch.as_tensor(noise, dtype=torch.float32, device=device)
        log_q = torch.log(noise_t.clamp_min(1e-30))
        sparse = [net.embedding.weight]
        dense = [net.output.weight, net.output.bias]
        if self.objective != "softmax":
            sparse, dense = [net.embedding.weight, net.output.weight], [net.output.bias]
        lr = float(self.learning_rate)
        optimizers = [torch.optim.SparseAdam(sparse, lr=lr), torch.optim.Adam(dense, lr=lr)]
        total_words = max(1, encoded.n_words * int(self.epochs))
        budget = None if self.max_seconds is None else float(self.max_seconds)
        done_words, n_pairs, losses, epochs, out_of_time = 0, 0, [], 0, False
        bar = self._bar(total_words)
        began = time.perf_counter()
        batch, k = int(self.batch_size), int(self.negative)
        for _ in range(int(self.epochs)):
            epoch_loss, epoch_pairs = 0.0, 0
            for tokens, words in encoded.jobs(_PIECE_WORDS):
                centre, context = skipgram_pairs(tokens, keep, int(self.window), rng)
                order = rng.permutation(centre.shape[0])
                centre_t = torch.as_tensor(centre[order], device=device)
                context_t = torch.as_tensor(context[order], device=device)
                n_piece = max(1, centre_t.shape[0])
                for lo in range(0, centre_t.shape[0], batch):
                    frac = (done_words + words * lo / n_piece) / total_words
                    if budget is not None:
                        spent = (time.perf_counter() - began) / budget
                        if spent >= 1.0:
                            done_words += round(words * lo / n_piece)
                            out_of_time = True
                            break
                        frac = max(frac, spent)
                    for opt in optimizers:
                        for group in opt.param_groups:
                            group["lr"] = lr * max(1e-4, 1.0 - frac)
                    c, o = centre_t[lo : lo + batch], context_t[lo : lo + batch]
                    if self.objective == "softmax":
                        loss = net.softmax_loss(c, o)
                    elif self.objective == "negative_sampling":
                        draws = torch.multinomial(noise_t, c.shape[0] * k, True, generator=gen)
                        loss = net.negative_sampling_loss(c, o, draws.view(-1, k))
                    else:
                        draws = torch.multinomial(noise_t, k, True, generator=gen)
                        loss = net.sampled_softmax_loss(c, o, draws, log_q)
                    for opt in optimizers:
                        opt.zero_grad(set_to_none=True)
                    loss.backward()
                    for opt in optimizers:
                        opt.step()
                    epoch_loss += float(loss.detach()) * c.shape[0]
                    epoch_pairs += c.shape[0]
                if out_of_time:
                    break
                done_words += words
                if bar is not None:
                    bar.update(words)
                    bar.set_postfix_str(
                        f"loss {epoch_loss / max(1, epoch_pairs):.4f}", refresh=False
                    )
            if epoch_pairs or not out_of_time:  # a budget stop before any pair adds nothing
                losses.append(epoch_loss / max(1, epoch_pairs))
            n_pairs += epoch_pairs
            if out_of_time:
                logger.info(
                    "max_seconds=%s spent after %d of %d words; stopped", budget, done_words,
                    total_words,
                )  # fmt: skip
                break
            epochs += 1
            logger.info("epoch %d: loss %.4f over %d pairs", epochs, losses[-1], epoch_pairs)
        if bar is not None:
            bar.close()
        return losses, time.perf_counter() - began, n_pairs, done_words, epochs

    def _bar(self, total: int) -> Any:
        if not self.progress or not sys.stderr.isatty():
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, unit="word", unit_scale=True, desc="SoftmaxSkipGram", leave=False)

    # ------------------------------------------------------------------ persistence
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "vocabulary_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError("this SoftmaxSkipGram is not fitted yet; call fit(corpus) first")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the model to a directory: ``config.json``, ``wv/`` (Embeddings with counts),
        ``output_weight.npy`` and ``output_bias.npy``; written atomically.

        Raises
        ------
        NotFittedError
            If the model has not been fitted.
        """
        self._check_fitted()
        state = {
            **training_state(self),
            "n_words": len(self.vocabulary_),
            "words_trained": int(self.words_trained_),
        }
        save_directory(
            path, self, name="SoftmaxSkipGram", format_version=_FORMAT_VERSION, state=state,
            arrays={"output_weight": self.output_weight_, "output_bias": self.output_bias_},
            wv=self.wv,
        )  # fmt: skip

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = False) -> SoftmaxSkipGram:
        """Load a model written by :meth:`save` (no PyTorch needed).

        Raises
        ------
        FormatError
            If ``path`` is not a saved SoftmaxSkipGram or a file in it is
            missing or inconsistent.
        """
        root, model, state = open_saved(
            cls, path, name="SoftmaxSkipGram", format_version=_FORMAT_VERSION,
            what="SoftmaxSkipGram model", hint="word vectors load with Embeddings.load",
        )  # fmt: skip
        wv = Embeddings.load(root / "wv", mmap=mmap)
        arrays = read_arrays(root, ["output_weight", "output_bias"], mmap)
        n, dim = len(wv), wv.dim
        if arrays["output_weight"].shape != (n, dim) or arrays["output_bias"].shape != (n,):
            raise FormatError(
                f"{str(root)!r}: output_weight {arrays['output_weight'].shape} and output_bias "
                f"{arrays['output_bias'].shape} do not fit {n} words of dim {dim}"
            )
        counts = wv.counts if wv.counts is not None else np.ones(n, dtype=np.int64)
        model.vocabulary_ = Vocabulary(list(wv.keys), counts)
        model.wv = wv
        model.output_weight_ = arrays["output_weight"]
        model.output_bias_ = arrays["output_bias"]
        restore_training(model, state)
        model.words_trained_ = int(state.get("words_trained", 0))
        return model
