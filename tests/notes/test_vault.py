"""NoteVault: incremental index (edit, delete, move, encoder switch), related notes, search."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from embedforge.errors import InvalidParameterError, UnknownKeyError
from embedforge.notes import NoteVault
from embedforge.notes.vault import INDEX_DIR

JOURNAL = "dendron.topic.special-notes.journal-note.md"
DAILY = "dendron.topic.special-notes.daily-journal-note.md"


def test_first_index_embeds_every_note_and_lives_inside_the_vault(vault_dir: Path):
    report = NoteVault(vault_dir, encoder="tfidf").index()
    assert report.rebuilt and report.notes == report.added == 11
    assert report.chunks_encoded > 11 and report.encode_seconds <= report.seconds
    assert (vault_dir / INDEX_DIR / "notes.json").is_file()
    again = NoteVault(vault_dir).index()  # no argument: the index's own encoder
    assert not again.rebuilt and again.unchanged == 11 and again.chunks_encoded == 0


def test_an_edit_re_embeds_only_that_note(vault_dir: Path):
    vault = NoteVault(vault_dir, encoder="tfidf")
    vault.index()
    before = {i: vault.collection.get_vectors(i)[0] for i in vault.collection.ids()}
    path = vault_dir / JOURNAL
    path.write_text(path.read_text() + "\n## New part\n\nWrite the journal every evening.\n")
    report = vault.index()
    assert (report.updated, report.added, report.removed, report.unchanged) == (1, 0, 0, 10)
    after = vault.collection.ids()
    n_chunks = sum(1 for i in after if i.startswith(JOURNAL + "#"))
    assert report.chunks_encoded == n_chunks
    assert any(
        "every evening" in d.text for d in vault.collection.get(after) if d.id.startswith(JOURNAL)
    )
    for chunk_id, vector in before.items():  # the other notes' vectors are untouched
        if not chunk_id.startswith(JOURNAL):
            np.testing.assert_array_equal(vault.collection.get_vectors(chunk_id)[0], vector)


def test_touching_a_file_without_changing_it_re_embeds_nothing(vault_dir: Path):
    vault = NoteVault(vault_dir, encoder="tfidf")
    vault.index()
    path = vault_dir / JOURNAL
    path.write_bytes(path.read_bytes())  # new mtime, same content
    report = vault.index()
    assert report.unchanged == 11 and report.chunks_encoded == 0


def test_a_shorter_note_loses_its_extra_chunks(vault_dir: Path):
    vault = NoteVault(vault_dir, encoder="tfidf")
    vault.index()
    (vault_dir / JOURNAL).write_text("---\ntitle: Journal\n---\nJust one line now.\n")
    vault.index()
    assert [i for i in vault.collection.ids() if i.startswith(JOURNAL)] == [f"{JOURNAL}#0"]


def test_a_deleted_note_leaves_the_index(vault_dir: Path):
    vault = NoteVault(vault_dir, encoder="tfidf")
    vault.index()
    (vault_dir / DAILY).unlink()
    report = vault.index()
    assert report.removed == 1 and report.notes == 10
    assert not any(i.startswith(DAILY) for i in vault.collection.ids())
    with pytest.raises(UnknownKeyError, match="daily-journal"):
        vault.related(DAILY)


def test_a_moved_note_keeps_its_vectors_without_encoding(vault_dir: Path):
    vault = NoteVault(vault_dir, encoder="tfidf")
    vault.index()
    old = vault.collection.get_vectors(f"{DAILY}#0")[0]
    (vault_dir / "journals").mkdir()
    shutil.move(vault_dir / DAILY, vault_dir / "journals" / "daily.md")
    report = vault.index()
    assert (report.renamed, report.added, report.removed, report.chunks_encoded) == (1, 0, 0, 0)
    np.testing.assert_array_equal(vault.collection.get_vectors("journals/daily.md#0")[0], old)
    assert not any(i.startswith(DAILY) for i in vault.collection.ids())
    assert "journals/daily.md" in vault.note_ids()


def test_another_encoder_rebuilds_instead_of_mixing_vectors(vault_dir: Path, tmp_path: Path):
    from embedforge import LSA

    vault = NoteVault(vault_dir, encoder="tfidf")
    vault.index()
    tfidf_dim = vault.collection.dim
    texts = [p.read_text() for p in sorted(vault_dir.glob("*.md"))]
    LSA(dim=8, seed=0).fit(texts).save(tmp_path / "lsa")
    vault.close()
    switched = NoteVault(vault_dir, encoder=tmp_path / "lsa")
    report = switched.index()
    assert report.rebuilt and report.added == 11
    assert switched.collection.dim == 8 != tfidf_dim
    assert report.chunks_encoded == switched.collection.count
    assert NoteVault(vault_dir).index().chunks_encoded == 0  # the index now records LSA


def test_another_chunk_budget_rebuilds(vault_dir: Path):
    NoteVault(vault_dir, encoder="tfidf").index()
    report = NoteVault(vault_dir, max_tokens=0).index()  # whole notes
    assert report.rebuilt and report.chunks_encoded == 11


def test_related_notes_find_the_sibling_topic(indexed: NoteVault):
    (entry,) = indexed.related(JOURNAL, k=3)
    assert entry.note == JOURNAL and len(entry.related) == 3
    assert DAILY in [r.note for r in entry.related]
    scores = [r.score for r in entry.related]
    assert scores == sorted(scores, reverse=True) and JOURNAL not in [r.note for r in entry.related]
    best = entry.related[0]
    assert best.passage and best.start_line >= 1 and best.end_line >= best.start_line


def test_every_note_gets_related_notes_in_sorted_order(indexed: NoteVault):
    found = indexed.related(k=2)
    assert [r.note for r in found] == sorted(indexed.note_ids())
    assert all(len(r.related) == 2 for r in found)


def test_exclude_linked_and_min_score(indexed: NoteVault):
    linked = indexed.links(JOURNAL)
    assert DAILY in linked  # the journal note links to the daily journal note
    (entry,) = indexed.related(JOURNAL, k=10, exclude_linked=True)
    assert not set(linked) & {r.note for r in entry.related}
    (strict,) = indexed.related(JOURNAL, k=10, min_score=0.2)
    assert all(r.score >= 0.2 for r in strict.related)


def test_aggregations_and_weights_change_scores_not_shapes(indexed: NoteVault):
    for aggregation in ("max", "mean", "top-m"):
        for w in (0.0, 1.0):
            (entry,) = indexed.related(DAILY, k=4, aggregation=aggregation, lexical_weight=w)
            assert len(entry.related) == 4
    with pytest.raises(InvalidParameterError, match="aggregation"):
        indexed.related(DAILY, aggregation="median")


def test_search_finds_the_publishing_notes(indexed: NoteVault):
    found = indexed.search("publish your notes as a website", k=3)
    assert len(found) == 3 and found[0].note.startswith("dendron.topic.publish")


def test_reading_an_unindexed_vault_says_to_index_it(vault_dir: Path):
    with pytest.raises(InvalidParameterError, match="notes index"):
        NoteVault(vault_dir).related(JOURNAL)


def test_a_missing_folder_is_refused(tmp_path: Path):
    with pytest.raises(InvalidParameterError, match="not a folder"):
        NoteVault(tmp_path / "nope").index()
