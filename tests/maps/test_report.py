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


WIKI = Path(__file__).parents[1] / "data" / "wiki_beir_excerpt"


def _lsa_collection(tmp_path):
    from embedforge import LSA
    from embedforge.evaluate import read_beir
    from embedforge.search import Collection

    data = read_beir(WIKI)
    model = LSA(dim=24, seed=0).fit([doc.text for doc in data.corpus.values()])
    col = Collection.create(tmp_path / "col", encoder=model)
    col.add([{"id": d, "text": doc.text} for d, doc in data.corpus.items()])
    col.close()
    return tmp_path / "col", model, data


def test_a_collection_report_holds_the_compression_curve(tmp_path):
    """Given queries and qrels, the page holds the curve's table (the library's figures) and its
    plot, both inlined, beside the map of the collection's vectors."""
    from embedforge.evaluate import compression_curve
    from embedforge.search import Collection

    directory, _, data = _lsa_collection(tmp_path)
    out = tmp_path / "report.html"
    args = ["report", str(directory), "--output", str(out), "--no-weat", "--analogies"]
    args += [str(tmp_path / "none"), "--data", str(WIKI), "--dims", "24,8"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    page = _Page()
    page.feed(out.read_text(encoding="utf-8"))
    assert page.external == [] and len(page.images) == 2  # the curve and the map
    for src in page.images:
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    with Collection.open(directory) as col:
        curve = compression_curve(col, data.queries, data.qrels, dims=[24, 8])
    _, rows = curve.table()
    assert len(rows) == 11
    baseline = rows[0]
    cells = page.cells
    at = cells.index("24")
    assert cells[at : at + 9] == baseline[:9]  # dims .. recall@10: everything but the timings
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "## Compression curve" in md and "| 8 | binary | yes | 1 | 96x |" in md
    assert "Smallest keeping 95% of float32 nDCG@10: " in md


def test_an_encoder_without_keyed_vectors_gets_the_curve_only(tmp_path):
    _, model, _ = _lsa_collection(tmp_path)
    model.save(tmp_path / "lsa")
    out = tmp_path / "report.html"
    files = ["--queries", str(WIKI / "queries.jsonl"), "--qrels", str(WIKI / "qrels" / "test.tsv")]
    args = ["report", str(tmp_path / "lsa"), "--output", str(out), *files, "--dims", "8"]
    assert CliRunner().invoke(app, args).exit_code == 2  # an encoder needs the documents
    result = CliRunner().invoke(app, [*args, "--corpus", str(WIKI / "corpus.jsonl")])
    assert result.exit_code == 0, result.output
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "## Compression curve" in md and "## Map" not in md and "| 8 | int8 | yes |" in md
    only_queries = ["report", str(tmp_path / "lsa"), "--output", str(out), *files[:2]]
    result = CliRunner().invoke(app, only_queries)
    assert result.exit_code == 2 and "--qrels" in result.output
