"""The vault over HTTP: /notes/related, /notes/search, /notes/index."""

from __future__ import annotations

import pytest

from embedforge.notes import NoteVault

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from embedforge.notes.server import create_notes_app  # noqa: E402

JOURNAL = "dendron.topic.special-notes.journal-note.md"
DAILY = "dendron.topic.special-notes.daily-journal-note.md"


def test_related_search_and_index_routes(vault_dir):
    vault = NoteVault(vault_dir, encoder="tfidf")
    vault.index()
    with TestClient(create_notes_app(vault, api_key="secret")) as client:
        got = client.get("/notes/related", params={"note": JOURNAL, "k": 3})
        assert got.status_code == 200
        (entry,) = got.json()["results"]
        assert entry["note"] == JOURNAL and DAILY in [r["note"] for r in entry["related"]]
        assert set(entry["related"][0]) == {"note", "score", "passage"}
        found = client.post("/notes/search", json={"query": "publish a website", "k": 2})
        assert found.status_code == 200 and len(found.json()["results"]) == 2
        missing = client.get("/notes/related", params={"note": "nope.md"})
        assert missing.status_code == 404 and "nope.md" in missing.json()["error"]
        assert client.post("/notes/index").status_code == 401
        (vault_dir / "new.md").write_text("# New\n\nA note about gardening.\n")
        report = client.post("/notes/index", headers={"X-API-Key": "secret"})
        assert report.status_code == 200 and report.json()["added"] == 1
        assert client.get("/health").json()["count"] == vault.collection.count
