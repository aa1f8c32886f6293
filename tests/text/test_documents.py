"""Document readers: JSONL (BEIR), CSV/TSV and plain text, streamed, with line-numbered errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from embedforge import CorpusError, Document, FormatError, InvalidParameterError
from embedforge.text.documents import iter_document_batches, iter_documents

DATA = Path(__file__).parents[1] / "data"
WIKI = DATA / "wiki_beir_excerpt"


def test_beir_corpus_joins_title_and_text_with_a_space():
    docs = list(iter_documents(WIKI / "corpus.jsonl"))
    raw = [json.loads(line) for line in (WIKI / "corpus.jsonl").read_text().splitlines()]
    assert len(docs) == len(raw) == 40
    for doc, record in zip(docs, raw, strict=True):
        assert isinstance(doc, Document)
        assert doc.id == record["_id"]
        assert doc.text == f"{record['title'].strip()} {record['text'].strip()}"
        assert doc.metadata == {}  # BEIR's empty nested "metadata" object is lifted
    assert docs[0].id == "12" and docs[0].text.startswith("Anarchism anarchism is a political")


def test_a_beir_directory_reads_its_corpus():
    assert [d.id for d in iter_documents(WIKI)] == [
        d.id for d in iter_documents(WIKI / "corpus.jsonl")
    ]


def test_nested_metadata_is_lifted_and_other_fields_kept(tmp_path):
    path = tmp_path / "docs.jsonl"
    rows = [
        {
            "_id": 7,
            "title": "",
            "text": "only text",
            "year": 2020,
            "metadata": {"lang": "en", "evidence": [{"sentences": [4], "label": "SUPPORT"}]},
        },
        {"_id": "b", "title": "Title", "text": None, "metadata": {"year": 1}, "year": 2},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    docs = list(iter_documents(path))
    assert docs == [
        Document(
            "7",
            "only text",
            {"lang": "en", "evidence": [{"sentences": [4], "label": "SUPPORT"}], "year": 2020},
        ),
        Document("b", "Title", {"year": 2}),
    ]


def test_queries_file_with_one_text_field():
    queries = list(iter_documents(WIKI / "queries.jsonl", text_fields=("text",)))
    assert len(queries) == 14  # 12 judged + 2 unjudged
    by_id = {q.id: q for q in queries}
    assert by_id["q4"].text == "never completed television adaptation of atlas shrugged rand"
    assert by_id["q4"].metadata == {"source_id": "339", "source_title": "Ayn Rand", "token": 3262}


def test_csv_with_quoted_newlines_and_tsv(tmp_path):
    csv_path = tmp_path / "docs.csv"
    csv_path.write_text(
        'id,title,body,source\r\n1,"A, title","line one\nline two",web\r\n2,,x,\r\n'
    )
    docs = list(iter_documents(csv_path, id_field="id", text_fields=("title", "body")))
    assert docs == [
        Document("1", "A, title line one\nline two", {"source": "web"}),
        Document("2", "x", {"source": ""}),
    ]
    tsv_path = tmp_path / "docs.tsv"
    tsv_path.write_text("doc\ttext\nd1\thello world\n")
    assert list(iter_documents(tsv_path, id_field="doc", text_fields="text")) == [
        Document("d1", "hello world", {})
    ]


def test_plain_text_ids_are_line_numbers_and_blank_lines_are_skipped(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text("first doc\n\n  \nfourth doc\r\nfifth")
    docs = list(iter_documents(path))
    assert [(d.id, d.text) for d in docs] == [
        ("0", "first doc"),
        ("3", "fourth doc"),
        ("4", "fifth"),
    ]


def test_gzip_and_format_inferred_before_the_compression_suffix(tmp_path):
    path = tmp_path / "docs.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write('{"_id": "x", "text": "caf\\u00e9"}\n')
    assert list(iter_documents(path)) == [Document("x", "café", {})]


def test_latin1_text_with_an_encoding():
    docs = list(iter_documents(DATA / "lee_excerpt" / "lee.cor", encoding="iso-8859-1"))
    assert len(docs) == 50
    with pytest.raises(FormatError, match=r"lee\.cor', line \d+: not valid utf-8"):
        list(iter_documents(DATA / "lee_excerpt" / "lee.cor"))


def test_id_field_none_numbers_the_records(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b"}\n')
    assert [d.id for d in iter_documents(path, id_field=None)] == ["0", "1"]


def test_reading_is_lazy(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"_id": "1", "text": "fine"}\n{not json\n')
    docs = iter_documents(path)
    assert next(docs).id == "1"
    with pytest.raises(FormatError, match="line 2"):
        next(docs)


@pytest.mark.parametrize(
    "content,message",
    [
        ('{"_id": "1", "text": "a"}\n{"_id": "2", "text": \n', r"line 2: not valid JSON"),
        ('\n{"text": "no id"}\n', r"line 2: no id field '_id'"),
        (
            '{"_id": [1], "text": "a"}\n',
            r"line 1: the id field '_id' must be a string or an integer",
        ),
        ('{"_id": true, "text": "a"}\n', "must be a string or an integer; got bool"),
        ('{"_id": "1", "body": "a"}\n', r"line 1: none of the text fields \['title', 'text'\]"),
        ('{"_id": "1", "text": 5}\n', "text field 'text' must be a string"),
        ('["_id", "text"]\n', "line 1: expected a JSON object"),
    ],
)
def test_jsonl_errors_name_the_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(FormatError, match=message) as info:
        list(iter_documents(path))
    assert "bad.jsonl" in str(info.value)


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"_id": "1", "text": "ok"}\n{"_id": "2", "text": "caf\xe9"}\n')
    with pytest.raises(FormatError, match=r"bad\.jsonl', line 2: not valid utf-8"):
        list(iter_documents(path))


def test_csv_errors(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name,text\na,b\n")
    with pytest.raises(FormatError, match="line 1: the header row has no id column '_id'"):
        list(iter_documents(path))
    path.write_text("_id,text\na,b\nc,d,e\n")
    with pytest.raises(FormatError, match="line 3: expected 2 fields"):
        list(iter_documents(path))


def test_missing_file_and_bad_arguments(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        iter_documents(tmp_path / "nothing.jsonl")
    with pytest.raises(CorpusError, match="is a directory"):
        iter_documents(tmp_path)
    with pytest.raises(InvalidParameterError, match="format must be None .* got 'xml'"):
        iter_documents(WIKI / "corpus.jsonl", format="xml")
    with pytest.raises(InvalidParameterError, match="text_fields must be a non-empty"):
        iter_documents(WIKI / "corpus.jsonl", text_fields=())
    with pytest.raises(InvalidParameterError, match="encoding must be a text encoding"):
        iter_documents(WIKI / "corpus.jsonl", encoding="nope-8")


def test_batches():
    batches = list(iter_document_batches(WIKI, batch_size=16))
    assert [len(b) for b in batches] == [16, 16, 8]
    assert [d for b in batches for d in b] == list(iter_documents(WIKI))
    with pytest.raises(InvalidParameterError, match="batch_size must be an integer >= 1; got 0"):
        next(iter_document_batches(WIKI, batch_size=0))


@pytest.mark.data
def test_full_scifact_by_data_set_name(data_dir, monkeypatch):
    monkeypatch.setenv("EMBEDFORGE_DATA_DIR", str(data_dir))
    docs = list(iter_documents("scifact"))
    assert len(docs) == 5183 and len({d.id for d in docs}) == 5183
    assert all(d.text for d in docs)
    assert docs[0].id == "4983" and docs[0].text.startswith("Microstructural development")
    assert all(d.metadata == {} for d in docs)  # BEIR's empty nested "metadata" is lifted


@pytest.mark.data
def test_full_scifact_queries_keep_their_nested_metadata(data_file):
    path = data_file("scifact/queries.jsonl")
    queries = {q.id: q for q in iter_documents(path, text_fields=("text",))}
    assert len(queries) == 1109
    assert queries["5"].text == "1/2000 in UK have abnormal PrP positivity."
    assert queries["5"].metadata == {"13734012": [{"sentences": [4], "label": "SUPPORT"}]}
