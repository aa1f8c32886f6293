"""Regenerate the gensim-written word2vec fixtures in this folder (run by hand, not by the tests).

    .venv/bin/python tests/data/gensim_fixtures/make_fixtures.py

Needs gensim 4.4.0.  The files are kept as written, so that reading files made
by that gensim version keeps working whatever gensim does later.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import gensim
from gensim.models import KeyedVectors, Word2Vec

HERE = Path(__file__).parent


def main() -> None:
    assert gensim.__version__ == "4.4.0", gensim.__version__
    tokens = (HERE.parent / "text8_head.txt").read_text(encoding="ascii").split()
    sentences = [tokens[i : i + 1000] for i in range(0, len(tokens), 1000)]
    model = Word2Vec(
        sentences,
        vector_size=16,
        window=5,
        min_count=5,
        sg=1,
        epochs=20,
        workers=1,
        seed=1,
        hashfxn=lambda text: zlib.crc32(text.encode("utf-8")),
    )
    keys = model.wv.index_to_key[:60]
    small = KeyedVectors(16)
    small.add_vectors(keys, model.wv[keys])
    small.save_word2vec_format(str(HERE / "w2v_gensim440.txt"), binary=False)
    small.save_word2vec_format(str(HERE / "w2v_gensim440.bin"), binary=True)
    small.save_word2vec_format(str(HERE / "glove_gensim440.txt"), binary=False, write_header=False)


if __name__ == "__main__":
    main()
