"""``embedforge report``: one self-contained HTML page (parsed here) and its Markdown."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from embedforge import Embeddings
from embedforge.cli import app

FIXTURE = Path(__file__).parents[1] / "data" / "weat_wefe"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.external: list[str] = []
        self.cells: list[str] = []
        self._in_td = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "img":
            self.images.append(a["src"])
        if tag in ("script", "link") or (a.get("src") or "").startswith("http"):
            self.external.append(tag)
        self._in_td = tag == "td"

    def handle_data(self, data):
        if self._in_td:
            self.cells.append(data)
            self._in_td = False


def test_report_renders_as_one_self_contained_page(tmp_path):
    directory = tmp_path / "vectors"
    Embeddings.load_word2vec_format(FIXTURE / "vectors.txt").save(directory)
    out = tmp_path / "report.html"
    args = ["report", str(directory), "--output", str(out), "--analogies", str(tmp_path / "none")]
    args += ["--word-sets", str(FIXTURE / "WEAT.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    page = _Page()
    page.feed(out.read_text(encoding="utf-8"))
    page.close()
    assert page.tags[0] == "html" and "table" in page.tags and page.external == []
    # the ten WEAT tests, and the analogy file that does not exist is a note, not a failure
    assert [c for c in page.cells if c.startswith("weat")] == [f"weat{i}" for i in range(1, 11)]
    assert "analogies skipped" in out.read_text(encoding="utf-8")
    # the map is an inlined PNG
    (src,) = page.images
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert md.startswith("# embedforge report: vectors") and "| weat10 |" in md
