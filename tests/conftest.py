"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

TEST_DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The full public data sets (``EMBEDFORGE_DATA_DIR``); skips the test when absent."""
    value = os.environ.get("EMBEDFORGE_DATA_DIR")
    if not value:
        pytest.skip("EMBEDFORGE_DATA_DIR is not set; CI sets it to ../shared/data")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"EMBEDFORGE_DATA_DIR={value} is not a directory; CI sets it to ../shared/data")
    return path


@pytest.fixture(scope="session")
def data_file(data_dir: Path) -> Callable[[str], Path]:
    """``data_file("men/MEN_dataset_natural_form_full")``: a mirror file, or skip if missing."""

    def get(relative: str) -> Path:
        path = data_dir / relative
        if not path.is_file():
            pytest.skip(
                f"EMBEDFORGE_DATA_DIR={data_dir} does not contain {relative}; "
                "CI sets it to ../shared/data"
            )
        return path

    return get


@pytest.fixture(scope="session")
def text8_head_keyedvectors():
    """gensim KeyedVectors trained (1 worker, fixed seed) on ``tests/data/text8_head.txt``.

    Real, small vectors for comparing our evaluation code with gensim's.
    """
    gensim_models = pytest.importorskip("gensim.models")
    tokens = (TEST_DATA / "text8_head.txt").read_text(encoding="ascii").split()
    sentences = [tokens[i : i + 1000] for i in range(0, len(tokens), 1000)]
    model = gensim_models.Word2Vec(
        sentences, vector_size=50, window=5, min_count=3, workers=1, seed=7, epochs=30
    )
    return model.wv
