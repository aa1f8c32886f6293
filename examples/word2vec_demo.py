"""`make demo`: train word2vec on the largest real corpus at hand, evaluate it, query it, save it.

Corpus, in order of preference: the text8-sized slice of enwiki2015 (17.0M
tokens, from the local mirror in EMBEDFORGE_DATA_DIR), the full text8
(downloaded and checksum-verified), the 1.17M-token text8 prefix (mirror).
Takes a few minutes on 2 cores.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from embedforge import Word2Vec, evaluate_analogies, evaluate_word_similarity
from embedforge.errors import DatasetError
from embedforge.text.corpus import open_corpus

OUTPUT = Path("demo-model")


def pick_corpus():
    for name in ("enwiki2015_text8size", "text8", "text8_prefix"):
        try:
            return name, open_corpus(name)
        except DatasetError as exc:
            print(f"  {name}: not available ({str(exc).split(';')[0]})")
    sys.exit(
        "no corpus found: set EMBEDFORGE_DATA_DIR to the shared data directory "
        "(../shared/data) or allow the text8 download"
    )


def main() -> None:
    # Progress: a bar on a terminal; otherwise (``make demo | cat``, CI logs) the trainers
    # log one line per epoch (words/s, loss, elapsed) and the vocabulary, at INFO.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stdout
    )
    # the demo prints the evaluations itself; their log lines would repeat them
    logging.getLogger("embedforge.evaluate").setLevel(logging.WARNING)
    print("embedforge demo: word2vec skip-gram, negative sampling, dim 100, window 5, 5 epochs")
    name, corpus = pick_corpus()
    print(f"corpus: {name} ({corpus.path})")
    started = time.perf_counter()
    model = Word2Vec(dim=100, window=5, negative=5, min_count=5, sample=1e-3, epochs=5, seed=1)
    model.fit(corpus)
    wv = model.wv
    print(
        f"\ntrained {len(wv):,} words in {time.perf_counter() - started:.0f} s "
        f"({model.words_per_second_:,.0f} words/s over {model.effective_workers} threads); "
        f"loss per epoch: {', '.join(f'{x:.3f}' for x in model.loss_history_)}"
    )

    print("\n== evaluation (analogies over the 30,000 most frequent words)")
    print(evaluate_analogies(wv, "google_analogy", restrict_vocab=30_000))
    for dataset in ("wordsim353", "simlex999", "men"):
        print(f"{dataset}: {evaluate_word_similarity(wv, dataset)}")

    print("\n== nearest neighbours")
    for word in ("king", "computer", "france", "music", "einstein", "seven"):
        if word in wv:
            neighbours = ", ".join(k for k, _ in wv.most_similar(word, k=6))
            print(f"{word:>10}: {neighbours}")

    print("\n== analogies (a : b :: c : ?)")
    for a, b, c in [
        ("man", "king", "woman"),
        ("france", "paris", "germany"),
        ("big", "bigger", "small"),
        ("walking", "walked", "swimming"),
    ]:
        if all(w in wv for w in (a, b, c)):
            answers = ", ".join(k for k, _ in wv.most_similar(positive=[b, c], negative=[a], k=3))
            print(f"{a} : {b} :: {c} : {answers}")

    model.save(OUTPUT)
    wv.save_word2vec_format(OUTPUT / "vectors.bin", binary=True)
    print(f"\nsaved the model to {OUTPUT}/ and word2vec-binary vectors to {OUTPUT}/vectors.bin")
    print(f"try: .venv/bin/embedforge similar {OUTPUT} paris -k 5")


if __name__ == "__main__":
    main()
