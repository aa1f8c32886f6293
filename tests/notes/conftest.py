"""Fixtures of the notes tests: a copy of the Dendron excerpt, indexed with TF-IDF."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("markdown_it")
pytest.importorskip("yaml")

EXCERPT = Path(__file__).parents[1] / "data" / "dendron_excerpt"


def copy_excerpt(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for p in EXCERPT.glob("*.md"):
        shutil.copy(p, dest / p.name)
    return dest


@pytest.fixture
def vault_dir(tmp_path: Path) -> Path:
    """A fresh, writable copy of the excerpt's 11 notes."""
    return copy_excerpt(tmp_path / "vault")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory):
    """One TF-IDF-indexed copy shared by the read-only tests of a module."""
    from embedforge.notes import NoteVault

    root = copy_excerpt(tmp_path_factory.mktemp("indexed") / "vault")
    vault = NoteVault(root, encoder="tfidf", syntax="dendron")
    vault.index()
    yield vault
    vault.close()
