"""The Hogwild driver (embedforge._engine) on real small runs, and the trainers built on it."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from embedforge import _engine
from embedforge._engine import piece_seed, train
from embedforge.text.vocabulary import Vocabulary

DATA = Path(__file__).parent / "data"
SRC = Path(__file__).parents[1] / "src"


def head_sentences(n_tokens: int = 6000, length: int = 200) -> list[list[str]]:
    tokens = (DATA / "text8_head.txt").read_text(encoding="ascii").split()[:n_tokens]
    return [tokens[i : i + length] for i in range(0, len(tokens), length)]


def recording_runner(log: dict, lock: threading.Lock):
    """A run that trains nothing but records what the engine handed it, per piece."""

    def new_runner():
        def run(piece, a0, a1, seed):
            epoch, index, units = piece
            with lock:
                log[(epoch, index)] = (a0, a1, seed, threading.get_ident())
            return float(units), units

        return run

    return new_runner


def workers_alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("embedforge-worker")]


def numbered_pieces(n_pieces: int, units: int):
    return lambda epoch: (((epoch, i, units), units) for i in range(n_pieces))


def test_piece_seed_is_splitmix64_of_seed_epoch_and_piece():
    # pinned values (those of the code before the engine): every workers=1 result depends on them
    assert piece_seed(1, 0, 0) == 0x910A2DEC89025CC1
    assert piece_seed(3, 2, 7) == 0x09C199F2E6ADAFE6
    seeds = {piece_seed(s, e, p) for s in (0, 1) for e in range(3) for p in range(50)}
    assert len(seeds) == 300
    assert all(0 <= x < 2**64 for x in seeds)
    assert piece_seed(3, 1, 7) == piece_seed(3, 1, 7)


@pytest.mark.parametrize("workers", [1, 3])
def test_pieces_get_the_same_seed_and_learning_rates_whichever_thread_runs_them(workers):
    log: dict = {}
    stats = train(
        numbered_pieces(10, 100), recording_runner(log, threading.Lock()),
        units_per_epoch=1000, epochs=2, workers=workers, seed=5,
        learning_rate=0.025, min_learning_rate=0.0001, progress=False,
    )  # fmt: skip
    assert len(log) == 20
    total = 2000
    for (epoch, index), (a0, a1, seed, _) in log.items():
        assert seed == piece_seed(5, epoch, index)
        position = (epoch * 10 + index) * 100
        assert a0 == pytest.approx(0.025 - (0.025 - 0.0001) * position / total)
        assert a1 == pytest.approx(0.025 - (0.025 - 0.0001) * (position + 99) / total)
    assert log[(0, 0)][0] == 0.025
    assert log[(1, 9)][1] == pytest.approx(0.0001, abs=2e-5)  # the last unit: (total - 1) / total
    # loss accounting: each piece returned (units, units): a mean loss of 1 per example
    assert stats.loss_history == [1.0, 1.0]
    assert stats.epoch_examples == [1000, 1000]
    assert stats.units == total
    assert not workers_alive()


def test_an_error_in_a_worker_is_raised_in_the_caller_and_threads_are_joined():
    def new_runner():
        def run(piece, a0, a1, seed):
            if piece == 7:
                raise ValueError("piece 7 is bad")
            return 0.0, 1

        return run

    with pytest.raises(ValueError, match="piece 7 is bad"):
        train(lambda epoch: ((i, 1) for i in range(50)), new_runner, units_per_epoch=50,
              epochs=3, workers=2, seed=1, progress=False)  # fmt: skip
    assert not workers_alive()


def test_a_thread_that_cannot_start_fails_the_run_without_blocking_the_caller():
    def new_runner():
        raise MemoryError("no room for this thread's buffers")

    with pytest.raises(MemoryError, match="no room"):
        train(lambda epoch: ((i, 1) for i in range(100)), new_runner, units_per_epoch=100,
              epochs=2, workers=2, seed=1, progress=False)  # fmt: skip
    assert not workers_alive()


def test_sync_epochs_finishes_an_epoch_before_asking_for_the_next():
    finished = []
    lock = threading.Lock()

    def pieces(epoch):
        with lock:
            assert finished.count(epoch - 1) == (8 if epoch else 0)
        return ((epoch, 1) for _ in range(8))

    def new_runner():
        def run(epoch, a0, a1, seed):
            time.sleep(0.001)  # let the other thread lag behind
            with lock:
                finished.append(epoch)
            return 0.0, 1

        return run

    train(pieces, new_runner, units_per_epoch=8, epochs=4, workers=2, seed=1, progress=False,
          sync_epochs=True)  # fmt: skip
    assert finished.count(3) == 8


def test_one_info_line_per_epoch_when_no_bar_is_shown(caplog):
    log: dict = {}
    with caplog.at_level(logging.INFO, logger="embedforge._engine"):
        train(numbered_pieces(5, 10), recording_runner(log, threading.Lock()),
              units_per_epoch=50, epochs=3, workers=2, seed=1, desc="word2vec",
              progress=False)  # fmt: skip
    lines = [r.getMessage() for r in caplog.records if r.name == "embedforge._engine"]
    assert len(lines) == 4
    assert lines[-1].startswith("word2vec: trained 3 epochs over 50 words in ")
    assert lines[-1].endswith("loss per epoch 1.0000, 1.0000, 1.0000")
    for epoch, line in enumerate(lines[:3], 1):
        assert line.startswith(f"word2vec epoch {epoch}/3: ")
        assert "words/s" in line and "loss 1.0000" in line and "s elapsed" in line


def test_integer_ids_train_word2vec_without_going_through_strings(tmp_path):
    """A producer of integer ids (e.g. graph walks) feeds the engine directly."""
    from embedforge import Word2Vec
    from embedforge.text.corpus import write_tokens

    rng = np.random.default_rng(0)
    # two "communities" of ids that only co-occur inside their own sentences
    walks = [np.append(rng.integers(c * 10, c * 10 + 10, 20), -1) for c in (0, 1) * 200]
    encoded, counts = write_tokens(walks, 20, tmp_path)
    assert (encoded.n_words, encoded.n_sentences, counts.sum()) == (8000, 400, 8000)
    order = np.argsort(-counts, kind="stable")  # a vocabulary lists the most frequent first
    vocab = Vocabulary([str(i) for i in order], counts[order])
    rank = np.empty(20, np.int64)
    rank[order] = np.arange(20)
    encoded.remove()
    walks = [np.where(w >= 0, rank[np.maximum(w, 0)], -1) for w in walks]
    encoded, _ = write_tokens(walks, 20, tmp_path)
    # one thread: with two, this corpus's one piece per epoch lets epochs overlap, and the
    # loss of 20 ids then depends on timing
    model = Word2Vec(dim=16, window=3, epochs=3, workers=1, seed=2, min_count=1, progress=False)
    model._fit_encoded(encoded, vocab)
    assert list(tmp_path.iterdir()) == []  # the encoded ids are removed after training
    assert len(model.loss_history_) == 3 and model.loss_history_[-1] < model.loss_history_[0]
    sim = model.wv.normalized().vectors @ model.wv.normalized().vectors.T
    np.fill_diagonal(sim, -np.inf)
    community = np.array([int(k) // 10 for k in model.wv.keys])
    assert np.array_equal(community[sim.argmax(axis=1)], community)  # neighbours stay inside


def test_write_tokens_rejects_ids_out_of_range_and_leaves_no_file(tmp_path):
    from embedforge.errors import InvalidParameterError
    from embedforge.text.corpus import write_tokens

    with pytest.raises(InvalidParameterError, match=r"ids must be in 0\.\.4"):
        write_tokens([np.array([0, 1, -1]), np.array([5, -1])], 5, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_engine_module_is_private_and_typed():
    assert _engine.__all__ == ["Run", "TokenStream", "TrainStats", "piece_seed", "token_pieces",
                               "train"]  # fmt: skip


_INTERRUPTED_FIT = r"""
import faulthandler, json, signal, sys, threading
import numpy as np
# Ctrl-C as at a terminal: a test run started in the background (`cmd &` in a script) passes
# SIGINT down ignored, and Python then installs no KeyboardInterrupt handler
signal.signal(signal.SIGINT, signal.default_int_handler)
faulthandler.register(signal.SIGUSR1, all_threads=True)  # the test's stack dump on a hang
from embedforge import Word2Vec, FastText
tokens = open(sys.argv[1], encoding="ascii").read().split()
corpus = [tokens[i : i + 200] for i in range(0, len(tokens), 200)]
cls = {"word2vec": Word2Vec, "fasttext": FastText}[sys.argv[2]]
extra = {"bucket": 1000} if sys.argv[2] == "fasttext" else {}
model = cls(dim=8, epochs=1, min_count=2, workers=2, seed=3, progress=False, **extra)
model.fit(corpus[:20])
before = {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
          for k, v in vars(model).items()}
wv = model.wv.vectors.copy()
model.epochs = 100000
print("fitting", flush=True)
try:
    model.fit(corpus, update_vocab=True)
except KeyboardInterrupt:
    after = vars(model)
    same = set(after) == set(before) and all(
        np.array_equal(v, after[k]) if isinstance(v, np.ndarray) else after[k] is v or after[k] == v
        for k, v in before.items() if k != "epochs"
    )
    workers = [t for t in threading.enumerate() if t.name.startswith("embedforge-worker")]
    print(json.dumps({"unchanged": bool(same and np.array_equal(model.wv.vectors, wv)),
                      "workers": len(workers)}), flush=True)
    sys.exit(0)
sys.exit("fit finished without being interrupted")
"""


@pytest.mark.parametrize("trainer", ["word2vec", "fasttext"])
def test_ctrl_c_stops_fit_cleanly_and_leaves_the_model_and_no_temp_files(tmp_path, trainer):
    script = tmp_path / "fit.py"
    script.write_text(_INTERRUPTED_FIT, encoding="utf-8")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(DATA / "text8_head.txt"), trainer],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "fitting", proc.stderr.read()
        # wait until the corpus is encoded (its temporary file exists) and training runs
        deadline = time.monotonic() + 120
        while not list(tmp.glob("embedforge-corpus-*/corpus.int32")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.05)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGUSR1)  # faulthandler: every thread's stack to stderr
            time.sleep(2.0)
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"fit still running 120 s after SIGINT; its threads:\n{err[-6000:]}")
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    result = __import__("json").loads(out.strip().splitlines()[-1])
    assert result == {"unchanged": True, "workers": 0}
    assert list(tmp.iterdir()) == []


# ---------------------------------------------------------------------- bit-identity pins
# The engine and the shared kernels must train exactly what the code before them trained:
# with workers=1 and a fixed seed the vectors are bit-identical.  The saved_v1 fixtures were
# written by that code (see tests/data/saved_v1/make_saved_v1.py for the recipes); CBOW has no
# fixture, so its vectors are pinned by a SHA-256 computed with that code.  fastmath lets the
# compiler pick the vector width, so a CPU without the same SIMD units may round differently.
SAVED = DATA / "saved_v1"
SMALL = {"dim": 8, "epochs": 1, "min_count": 5, "workers": 1, "seed": 3, "progress": False}


@pytest.mark.parametrize(
    ("fixture", "params"),
    [
        ("word2vec", {}),
        ("word2vec_hs", {"objective": "hierarchical_softmax"}),
        ("fasttext", {"bucket": 64, "min_n": 3, "max_n": 4}),
    ],
)
def test_word_models_train_bit_identical_to_the_saved_v1_fixtures(fixture, params):
    from embedforge import FastText, Word2Vec

    cls = FastText if fixture == "fasttext" else Word2Vec
    model = cls(**SMALL, **params).fit(head_sentences())
    assert np.array_equal(model.wv.vectors, np.load(SAVED / fixture / "wv" / "vectors.npy"))
    assert np.array_equal(model.syn1_, np.load(SAVED / fixture / "syn1.npy"))
    if fixture == "fasttext":
        saved = np.load(SAVED / fixture / "wv" / "ngram_vectors.npy")
        assert np.array_equal(model.wv.ngram_vectors, saved)


def test_glove_reproduces_the_saved_v1_fixture():
    from embedforge import Cooccurrence, GloVe

    counts = Cooccurrence(window=5, min_count=5, progress=False).fit(head_sentences())
    model = GloVe(dim=8, window=5, epochs=2, min_count=5, workers=1, seed=3, progress=False)
    model.fit(counts)
    again = GloVe(dim=8, window=5, epochs=2, min_count=5, workers=1, seed=3, progress=False)
    again.fit(counts)
    for name in ("word_vectors", "context_vectors", "word_biases", "context_biases"):
        # bit-identical run to run on one machine
        assert np.array_equal(getattr(model, name + "_"), getattr(again, name + "_"))
        # the fixture was written on another CPU family: the kernel is compiled with fastmath
        # (reassociation, FMA contraction), so the last bits of a float32 may differ there
        # (measured: at most 3e-8 on Intel Xeon against the AMD EPYC fixture); any real
        # change of the algorithm moves values by orders of magnitude more
        np.testing.assert_allclose(
            getattr(model, name + "_"), np.load(SAVED / "glove" / f"{name}.npy"), rtol=0, atol=1e-6
        )


@pytest.mark.parametrize(
    ("cls", "params", "sha256"),
    [
        ("Word2Vec", {"objective": "negative_sampling"},
         "84768556b2b9045023b15744080b8e589b67157dce3fcf486849ada668c249e0"),
        ("Word2Vec", {"objective": "hierarchical_softmax"},
         "e9c15d64ef440c55a664acaa9e5fb70c8dc23d9bc655fdfb24e400722190e5d3"),
        ("FastText", {"bucket": 64, "min_n": 3, "max_n": 4},
         "6836628202c0f1f8ceda1bb672ae93bf55b2aed0b398bd0c7cf00eb7621bccf9"),
    ],
    ids=["cbow-ns", "cbow-hs", "fasttext-cbow"],
)  # fmt: skip
def test_cbow_trains_bit_identical_to_the_code_before_the_engine(cls, params, sha256):
    import hashlib

    import embedforge

    model = getattr(embedforge, cls)(**SMALL, arch="cbow", **params).fit(head_sentences())
    weights = model.syn0_ if cls == "FastText" else model.wv.vectors
    assert hashlib.sha256(weights.tobytes() + model.syn1_.tobytes()).hexdigest() == sha256
