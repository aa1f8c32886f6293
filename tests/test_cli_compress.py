"""``embedforge compress-report``: the library's curve, read from BEIR files or a data set
directory, for a saved encoder and for a collection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from embedforge import LSA
from embedforge.cli import app
from embedforge.evaluate import compression_curve, read_beir
from embedforge.search import Collection

WIKI = Path(__file__).parent / "data" / "wiki_beir_excerpt"


@pytest.fixture(scope="module")
def lsa_dir(tmp_path_factory):
    data = read_beir(WIKI)
    model = LSA(dim=24, seed=0).fit([doc.text for doc in data.corpus.values()])
    out = tmp_path_factory.mktemp("cli_compress") / "lsa"
    model.save(out)
    return out, model, data


def test_json_equals_the_library_and_files_equal_the_data_directory(lsa_dir, tmp_path):
    directory, model, data = lsa_dir
    runner = CliRunner()
    files = ["--queries", str(WIKI / "queries.jsonl"), "--qrels", str(WIKI / "qrels" / "test.tsv")]
    files += ["--corpus", str(WIKI / "corpus.jsonl")]
    common = ["--dims", "24,8", "--precisions", "float32,binary", "--format", "json"]
    by_files = runner.invoke(app, ["compress-report", str(directory), *files, *common])
    assert by_files.exit_code == 0, by_files.output
    by_data = runner.invoke(app, ["compress-report", str(directory), "--data", str(WIKI), *common])
    assert by_data.exit_code == 0, by_data.output
    got = json.loads(by_files.output)
    assert [r["ndcg@10"] for r in got["rows"]] == [
        r["ndcg@10"] for r in json.loads(by_data.output)["rows"]
    ]
    expected = compression_curve(
        model, data.queries, data.qrels, corpus=data.corpus, dims=[24, 8],
        precisions=["float32", "binary"],
    )  # fmt: skip
    assert [(r["dim"], r["precision"], r["rescore"]) for r in got["rows"]] == [
        (r.dim, r.precision, r.rescore) for r in expected.rows
    ]
    for row, ref in zip(got["rows"], expected.rows, strict=True):
        assert row["ndcg@10"] == pytest.approx(ref.ndcg)
        assert row["recall@100"] == pytest.approx(ref.recall[100])
        assert row["bytes_per_vector"] == ref.bytes_per_vector


def test_markdown_file_plot_and_the_smallest_row(lsa_dir, tmp_path):
    directory, _, _ = lsa_dir
    out, png = tmp_path / "curve.md", tmp_path / "curve.png"
    args = ["compress-report", str(directory), "--data", str(WIKI), "--output", str(out)]
    result = CliRunner().invoke(app, [*args, "--plot", str(png), "--keep", "0.9"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.count("\n| 24 | ") == 5 and "| 8 | binary | yes | 1 | 96x |" in text
    assert "Smallest keeping 90% of float32 nDCG@10: " in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_collection_directory_is_its_own_corpus(lsa_dir, tmp_path):
    _, model, data = lsa_dir
    col = Collection.create(tmp_path / "col", encoder=model)
    col.add([{"id": d, "text": doc.text} for d, doc in data.corpus.items()])
    col.close()
    args = ["compress-report", str(tmp_path / "col"), "--data", str(WIKI), "--format", "csv"]
    result = CliRunner().invoke(app, [*args, "--dims", "16", "--no-rescore"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("dim,precision,rescore,bytes_per_vector")
    assert len(lines) == 1 + 6  # (24, 16) x 3 precisions, no rescoring


def test_missing_judgements_is_one_line_error(lsa_dir):
    directory, _, _ = lsa_dir
    args = ["compress-report", str(directory), "--queries", str(WIKI / "queries.jsonl")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "--qrels" in result.output and "Traceback" not in result.output


def test_rotate_binary_equals_the_library_and_changes_only_binary_rows(lsa_dir):
    directory, model, data = lsa_dir
    common = ["--dims", "24", "--precisions", "float32,binary", "--format", "json"]
    runs = {}
    for flag in ("--rotate-binary", "--no-rotate-binary"):
        result = CliRunner().invoke(
            app, ["compress-report", str(directory), "--data", str(WIKI), *common, flag]
        )
        assert result.exit_code == 0, result.output
        runs[flag] = json.loads(result.output)
    rotated, plain = runs["--rotate-binary"], runs["--no-rotate-binary"]
    assert rotated["rotate_binary"] is True and plain["rotate_binary"] is False
    expected = compression_curve(
        model, data.queries, data.qrels, corpus=data.corpus, dims=[24],
        precisions=["float32", "binary"], rotate_binary=True,
    )  # fmt: skip
    for row, ref in zip(rotated["rows"], expected.rows, strict=True):
        assert row["ndcg@10"] == pytest.approx(ref.ndcg)
    # LSA's coordinates are ordered by variance: the rotated sign codes rank differently
    by_row = {(r["precision"], r["rescore"]): r["ndcg@10"] for r in plain["rows"]}
    for row in rotated["rows"]:
        same = by_row[(row["precision"], row["rescore"])] == pytest.approx(row["ndcg@10"])
        assert same if row["precision"] == "float32" else row["rescore"] or not same
