"""The one Hogwild training driver of embedforge's trainers (Word2Vec, FastText, GloVe, ...).

A trainer hands :func:`train` the work of each epoch as *pieces* and a
per-thread factory of ``run(piece, lr_start, lr_end, seed) -> (loss,
examples)``, usually a closure over a nogil numba kernel.  The driver owns
everything around the kernel, written once:

- a pool of ``workers`` threads fed through a bounded queue; they update the
  shared weights without locks (Hogwild, as word2vec C, gensim and the
  reference GloVe do);
- the learning rate, decaying linearly with the units (words, pairs, ...)
  processed over the whole run, handed to each piece as its first and last
  value;
- the seed of each piece, derived from ``(seed, epoch, piece index)``
  (splitmix64, :func:`piece_seed`), so that results do not depend on which
  thread takes which piece, and ``workers=1`` is bit-reproducible;
- the loss per epoch, summed per piece (each thread adds its own pieces);
- the progress bar (tqdm: units/s, ETA, running loss; off when not on a
  terminal or with ``progress=False``) and, when no bar is shown, one
  ``logging`` INFO line per epoch;
- errors: an exception raised in a worker stops the run and is re-raised in
  the caller; Ctrl-C (KeyboardInterrupt) in the caller stops the workers
  after their current piece, joins them and propagates.  The trainers
  assign their new state only after :func:`train` returns, so an
  interrupted ``fit`` leaves the model as it was.

Pieces for text trainers are pieces of an encoded corpus (int32 word ids,
``-1`` ending each sentence; see :class:`embedforge.text.corpus.EncodedCorpus`
and :func:`token_pieces`), so any producer of integer ids (graph walks)
trains without going through strings; GloVe's are slices of a shuffled
order of the co-occurrence entries.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from tqdm.auto import tqdm

__all__ = ["Run", "TokenStream", "TrainStats", "piece_seed", "token_pieces", "train"]

logger = logging.getLogger(__name__)

_MASK64 = (1 << 64) - 1
# The bar is refreshed at least this often (seconds) while the caller waits.
_REFRESH = 0.2

#: ``run(piece, lr_start, lr_end, seed) -> (summed loss, examples)``, one per thread.
Run = Callable[[Any, float, float, int], tuple[float, int]]


class TokenStream(Protocol):
    """An encoded corpus: int32 word ids, ``-1`` ending each sentence, read in pieces."""

    n_words: int

    def jobs(self, job_words: int) -> Iterator[tuple[Any, int]]: ...


def piece_seed(seed: int, epoch: int, piece: int) -> int:
    """A 64-bit seed for one piece of one epoch (splitmix64 of the three numbers)."""
    z = seed * 0x9E3779B97F4A7C15 + epoch * 0xBF58476D1CE4E5B9 + piece * 0x94D049BB133111EB + 1
    z &= _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def token_pieces(corpus: TokenStream, job_words: int) -> Callable[[int], Iterable[tuple[Any, int]]]:
    """The pieces of every epoch of an encoded corpus: ``(tokens, n_words)`` of ~``job_words``."""
    return lambda epoch: corpus.jobs(job_words)


@dataclass
class TrainStats:
    """What one :func:`train` run measured.

    Attributes
    ----------
    loss_history : list of float
        Mean loss per example in each epoch (``nan`` for an epoch without examples).
    epoch_loss : list of float
        Summed loss of each epoch.
    epoch_examples : list of int
        Examples (predictions, entries) of each epoch.
    seconds : float
        Wall-clock seconds of training.
    units : int
        Units processed (``units_per_epoch * epochs``).
    units_per_second : float
    """

    loss_history: list[float]
    epoch_loss: list[float]
    epoch_examples: list[int]
    seconds: float
    units: int
    units_per_second: float


def train(
    pieces: Callable[[int], Iterable[tuple[Any, int]]],
    new_runner: Callable[[], Run],
    *,
    units_per_epoch: int,
    epochs: int,
    workers: int,
    seed: int,
    learning_rate: float = 0.0,
    min_learning_rate: float = 0.0,
    desc: str = "training",
    unit: str = "words",
    loss_name: str = "loss",
    progress: bool = True,
    sync_epochs: bool = False,
) -> TrainStats:
    """Run ``epochs`` epochs of Hogwild training over ``pieces`` on ``workers`` threads.

    Parameters
    ----------
    pieces : callable
        ``pieces(epoch)`` yields the epoch's pieces as ``(piece, units)``; it is
        called in the caller's thread, one epoch after the other.  ``units``
        (words, pairs, ...) drive the learning rate and the progress.
    new_runner : callable
        Called once in each worker thread; returns that thread's
        ``run(piece, lr_start, lr_end, seed) -> (loss, examples)`` (a closure
        holding the thread's own buffers).
    units_per_epoch : int
        Units in one epoch (the sum of the pieces' units).
    epochs, workers, seed : int
    learning_rate, min_learning_rate : float
        The rate at the first and the last unit of the run; a piece gets
        the rates of its first and last unit (linear in units processed).
    desc, unit, loss_name : str
        Words of the progress bar and of the log lines.
    progress : bool
        Show the bar (when on a terminal).
    sync_epochs : bool
        Wait for every piece of an epoch to finish before asking for the
        next epoch's pieces (GloVe reshuffles its order in place).

    Returns
    -------
    TrainStats

    Raises
    ------
    BaseException
        The first exception a worker raised (the others are dropped), or
        KeyboardInterrupt; the worker threads are stopped and joined first.
    """
    total = units_per_epoch * epochs
    span = max(total, 1)  # of the learning-rate schedule
    lr0, lr1 = float(learning_rate), float(min_learning_rate)
    jobs: queue.Queue = queue.Queue(maxsize=2 * workers)
    lock = threading.Lock()
    changed = threading.Condition(lock)
    done_units = [0]
    epoch_loss = [0.0] * epochs
    epoch_examples = [0] * epochs
    epoch_pieces_done = [0] * epochs
    epoch_pieces: list[int | None] = [None] * epochs
    errors: list[BaseException] = []
    stop = threading.Event()

    bar = tqdm(
        total=total, unit=" " + unit, unit_scale=True, desc=desc,
        disable=None if progress else True, smoothing=0.1,
    )  # fmt: skip
    log_epochs = bool(bar.disable)
    started = time.perf_counter()
    epoch_started = [started]

    next_log = [0]

    def log_finished_epochs() -> None:
        """Log, in order, each epoch whose pieces are all done (called under the lock)."""
        while next_log[0] < epochs:
            epoch = next_log[0]
            if epoch_pieces[epoch] is None or epoch_pieces_done[epoch] < epoch_pieces[epoch]:
                return
            next_log[0] += 1
            if not log_epochs:
                continue
            now = time.perf_counter()
            ex = epoch_examples[epoch]
            logger.info(
                "%s epoch %d/%d: %.0f %s/s, %s %.4f, %.1f s elapsed",
                desc, epoch + 1, epochs, units_per_epoch / max(now - epoch_started[0], 1e-9),
                unit, loss_name, epoch_loss[epoch] / ex if ex else float("nan"), now - started,
            )  # fmt: skip
            epoch_started[0] = now

    def fail(exc: BaseException) -> None:
        with changed:
            errors.append(exc)
            stop.set()
            changed.notify_all()

    def worker() -> None:
        try:
            run = new_runner()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            fail(exc)
        # after a failure keep taking jobs (and dropping them) until told to stop, so that
        # the caller never blocks on a full queue
        while True:
            job = jobs.get()
            if job is None:
                return
            if stop.is_set():
                continue
            epoch, piece, units, a0, a1, seed_ = job
            try:
                loss, examples = run(piece, a0, a1, seed_)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                fail(exc)
                continue
            with changed:
                done_units[0] += units
                epoch_loss[epoch] += loss
                epoch_examples[epoch] += examples
                epoch_pieces_done[epoch] += 1
                log_finished_epochs()
                changed.notify_all()

    shown = [0]

    def refresh(epoch: int) -> None:
        with lock:
            now_done = done_units[0]
            ex, lo = epoch_examples[epoch], epoch_loss[epoch]
        bar.update(now_done - shown[0])
        shown[0] = now_done
        if ex:
            bar.set_postfix({"epoch": epoch + 1, loss_name: f"{lo / ex:.4f}"}, refresh=False)

    def wait(done: Callable[[], bool], epoch: int) -> None:
        """Block until ``done()`` (checked under the lock) or a worker fails; refresh the bar."""
        while True:
            with changed:
                if done() or stop.is_set():
                    return
                changed.wait(_REFRESH)
            refresh(epoch)

    threads = [
        threading.Thread(target=worker, name=f"embedforge-worker-{i}", daemon=True)
        for i in range(workers)
    ]
    for t in threads:
        t.start()
    position = 0
    try:
        for epoch in range(epochs):
            index = -1
            for index, (piece, units) in enumerate(pieces(epoch)):
                if stop.is_set():
                    break
                a0 = lr0 - (lr0 - lr1) * position / span
                a1 = lr0 - (lr0 - lr1) * (position + max(units - 1, 0)) / span
                position += units
                jobs.put((epoch, piece, units, a0, a1, piece_seed(seed, epoch, index)))
                if done_units[0] - shown[0] >= 1_000_000 or index % 64 == 0:
                    refresh(epoch)
            if stop.is_set():
                break
            with changed:
                epoch_pieces[epoch] = index + 1
                log_finished_epochs()
            if sync_epochs or epoch == epochs - 1:
                wait(lambda e=epoch: epoch_pieces_done[e] == epoch_pieces[e], epoch)
    except BaseException:
        stop.set()
        raise
    finally:
        for _ in threads:
            jobs.put(None)
        for t in threads:
            t.join()
        bar.update(done_units[0] - shown[0])
        bar.close()
    if errors:
        raise errors[0]
    elapsed = time.perf_counter() - started
    history = [
        lo / ex if ex else float("nan") for lo, ex in zip(epoch_loss, epoch_examples, strict=True)
    ]
    logger.info(
        "%s: trained %d epochs over %d %s in %.1f s (%.0f %s/s); %s per epoch %s",
        desc, epochs, units_per_epoch, unit, elapsed,
        total / elapsed if elapsed > 0 else float("inf"), unit, loss_name,
        ", ".join(f"{x:.4f}" for x in history),
    )  # fmt: skip
    return TrainStats(
        loss_history=history,
        epoch_loss=epoch_loss,
        epoch_examples=epoch_examples,
        seconds=elapsed,
        units=total,
        units_per_second=total / elapsed if elapsed > 0 else float("inf"),
    )
