"""Streaming document readers: JSONL (BEIR), CSV/TSV and one-document-per-line text.

A document is an id, a text and JSON-serialisable metadata
(:class:`Document`).  :func:`iter_documents` reads them one at a time from a
file of any size (``.gz`` and ``.bz2`` are decompressed on the fly);
:func:`iter_document_batches` groups them into lists.  Errors name the file
and the 1-based line number.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from .._io import open_binary
from ..errors import CorpusError, DatasetError, FormatError, InvalidParameterError

__all__ = ["FORMATS", "Document", "iter_document_batches", "iter_documents"]

#: Formats :func:`iter_documents` reads.
FORMATS = ("jsonl", "csv", "tsv", "text")
_SUFFIX_FORMAT = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
                  ".tsv": "tsv"}  # fmt: skip


@dataclass(frozen=True)
class Document:
    """One document.

    Parameters
    ----------
    id : str
        Unique id (BEIR's ``_id``; the 0-based line number for plain text).
    text : str
        The text to embed: the non-empty text fields joined by one space
        (BEIR's ``title + " " + text``).
    metadata : dict
        The record's other fields, JSON-serialisable (empty for plain text).
    """

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def _infer_format(path: Path) -> str:
    name = path.name.lower()
    for ext in (".gz", ".bz2"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    return _SUFFIX_FORMAT.get(Path(name).suffix, "text")


def _resolve_path(path: str | os.PathLike[str]) -> Path:
    """A file path; a registered BEIR data set name or BEIR directory gives its corpus.jsonl."""
    p = Path(path)
    if isinstance(path, str) and not p.exists():
        from ..datasets import resolve_path

        try:
            p = resolve_path(path)
        except DatasetError as exc:
            raise CorpusError(
                f"document file {path!r} does not exist; check the path ({exc})"
            ) from None
    if p.is_dir() and (p / "corpus.jsonl").is_file():
        p = p / "corpus.jsonl"
    if not p.exists():
        raise CorpusError(f"document file {str(p)!r} does not exist; check the path")
    if p.is_dir():
        raise CorpusError(
            f"{str(p)!r} is a directory without corpus.jsonl; pass a JSONL, CSV, TSV or text file"
        )
    return p


def _decoded_lines(path: Path, position: list[int], encoding: str = "utf-8") -> Iterator[str]:
    """Lines of ``path`` decoded (a leading UTF-8 BOM dropped); ``position[0]`` = line number."""
    try:
        fh = open_binary(path)
    except OSError as exc:
        raise CorpusError(f"cannot read document file {str(path)!r}: {exc}") from exc
    first = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    with fh:
        line_no = 0
        while True:
            try:
                raw = fh.readline()
            except (OSError, EOFError) as exc:  # truncated gzip, I/O error
                raise CorpusError(
                    f"cannot read document file {str(path)!r} after line {line_no}: {exc}"
                ) from exc
            if not raw:
                return
            line_no += 1
            position[0] = line_no
            try:
                yield raw.decode(first if line_no == 1 else encoding)
            except UnicodeDecodeError as exc:
                raise FormatError(
                    f"{str(path)!r}, line {line_no}: not valid {encoding} ({exc.reason} at byte "
                    f"{exc.start} of the line); pass the file's encoding (e.g. "
                    "encoding='iso-8859-1') or re-encode it as UTF-8"
                ) from None


def _doc_id(value: object, id_field: str, where: str) -> str:
    if isinstance(value, str):
        if not value:
            raise FormatError(
                f"{where}: the id field {id_field!r} is empty; every document needs an id"
            )
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise FormatError(
        f"{where}: the id field {id_field!r} must be a string or an integer; got "
        f"{type(value).__name__} {value!r:.60}"
    )


def _from_record(
    record: dict[str, Any],
    id_field: str | None,
    text_fields: Sequence[str],
    separator: str,
    where: str,
    fallback_id: str,
) -> Document:
    if id_field is None:
        doc_id = fallback_id
    elif id_field not in record:
        raise FormatError(
            f"{where}: no id field {id_field!r} (fields: {', '.join(map(repr, record)) or 'none'}); "
            "pass the right id_field (or id_field=None to number the documents)"
        )
    else:
        doc_id = _doc_id(record[id_field], id_field, where)
    parts: list[str] = []
    found = False
    for name in text_fields:
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise FormatError(
                f"{where}: text field {name!r} must be a string; got {type(value).__name__} "
                f"{value!r:.60}"
            )
        found = True
        value = value.strip()
        if value:
            parts.append(value)
    if not found:
        raise FormatError(
            f"{where}: none of the text fields {list(text_fields)} is present (fields: "
            f"{', '.join(map(repr, record)) or 'none'}); pass the right text_fields"
        )
    metadata: dict[str, Any] = {}
    nested = record.get("metadata")
    if isinstance(nested, dict):
        metadata.update(nested)
    skip = {id_field, *text_fields}
    metadata.update((k, v) for k, v in record.items() if k not in skip and k != "metadata")
    if "metadata" in record and not isinstance(nested, dict):
        metadata["metadata"] = nested
    return Document(doc_id, separator.join(parts), metadata)


def _check_args(id_field: object, text_fields: object, fmt: object) -> tuple[str, ...]:
    if id_field is not None and (not isinstance(id_field, str) or not id_field):
        raise InvalidParameterError(
            f"id_field must be a non-empty field name or None; got {id_field!r}"
        )
    if isinstance(text_fields, str):
        text_fields = (text_fields,)
    if (
        not isinstance(text_fields, Iterable)
        or not (fields := tuple(text_fields))
        or not all(isinstance(f, str) and f for f in fields)
    ):
        raise InvalidParameterError(
            f"text_fields must be a non-empty sequence of field names such as ('title', 'text'); "
            f"got {text_fields!r}"
        )
    if fmt is not None and fmt not in FORMATS:
        raise InvalidParameterError(
            f"format must be None (inferred from the suffix) or one of "
            f"{', '.join(map(repr, FORMATS))}; got {fmt!r}"
        )
    return fields


def iter_documents(
    path: str | os.PathLike[str],
    *,
    id_field: str | None = "_id",
    text_fields: Sequence[str] = ("title", "text"),
    format: str | None = None,
    separator: str = " ",
    encoding: str = "utf-8",
) -> Iterator[Document]:
    """Stream the documents of a JSONL, CSV/TSV or plain text file, one at a time.

    Parameters
    ----------
    path : str or path-like
        The file (``.gz`` / ``.bz2`` decompressed on the fly), a BEIR data set
        directory (its ``corpus.jsonl`` is read) or a registered BEIR data set
        name such as ``"scifact"``.
    id_field : str or None, default "_id"
        Field holding the document id (a string or an integer) in JSONL and
        CSV/TSV; None numbers the records ``"0"``, ``"1"``, ... Ignored for
        plain text.
    text_fields : sequence of str, default ("title", "text")
        Fields whose non-empty values, stripped, are joined by ``separator``
        into :attr:`Document.text`. Missing or null fields are skipped; a
        record with none of them is an error. Ignored for plain text.
    format : {"jsonl", "csv", "tsv", "text"} or None
        None infers it from the suffix (before ``.gz``/``.bz2``): ``.jsonl``,
        ``.json`` and ``.ndjson`` are JSONL (one object per line), ``.csv``
        and ``.tsv`` have a header row (read with the ``csv`` module), any
        other suffix is plain text with one document per line.
    separator : str, default " "
        Joins the text fields (BEIR and sentence-transformers join title and
        text with one space).
    encoding : str, default "utf-8"
        Text encoding of the file (e.g. ``"iso-8859-1"`` for the Lee corpus).

    Yields
    ------
    Document
        In file order. JSONL and CSV: ``metadata`` holds the fields other than
        the id and text fields; the entries of a nested ``"metadata"`` object
        (BEIR's layout) are lifted to the top level, and a top-level field
        with the same name wins. Plain text: the id is the 0-based line number
        as a string, the text is the line without its line break, and blank
        lines are skipped (the numbering still counts them).

    Raises
    ------
    InvalidParameterError
        If an argument is invalid.
    CorpusError
        If the file does not exist or cannot be read.
    FormatError
        On a malformed JSON line or a line that is not an object, a missing or
        invalid id, a record with none of the text fields, or bytes that are
        not valid in ``encoding``; the message names the file and the 1-based
        line number.

    Notes
    -----
    Ids are not checked for uniqueness here (that needs memory proportional to
    the corpus); consumers that key by id (:class:`~embedforge.Embeddings`,
    collections) reject duplicates.

    Unicode: a UTF-8 byte order mark at the start of the file is dropped (as
    Python's ``utf-8-sig`` codec and pandas do), so the first JSON record, the
    CSV header and the first line of text read as if it were absent.  Texts
    and ids are otherwise kept exactly as written: not Unicode-normalised (the
    NFC and NFD spellings of a word stay different strings, as in gensim,
    fastText and scikit-learn), and non-ASCII whitespace (NBSP U+00A0, U+2009,
    U+3000, the zero-width space U+200B) is kept inside the text.  Lines are
    split on ``\n`` only, never on U+2028 or U+0085.  In plain text files a
    line of whitespace only, Unicode whitespace included (NBSP, U+3000), is
    blank and skipped; U+200B is not whitespace, so a line holding it is a
    document.

    Examples
    --------
    >>> docs = iter_documents("scifact/corpus.jsonl")  # doctest: +SKIP
    >>> next(docs).id  # doctest: +SKIP
    '4983'
    """
    fields = _check_args(id_field, text_fields, format)
    if not isinstance(separator, str):
        raise InvalidParameterError(f"separator must be a str; got {separator!r}")
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise InvalidParameterError(
            f"encoding must be a text encoding known to Python such as 'utf-8'; got {encoding!r}"
        ) from None
    p = _resolve_path(path)
    fmt = format or _infer_format(p)
    if fmt == "jsonl":
        return _iter_jsonl(p, id_field, fields, separator, encoding)
    if fmt in ("csv", "tsv"):
        delimiter = "\t" if fmt == "tsv" else ","
        return _iter_csv(p, id_field, fields, separator, delimiter, encoding)
    return _iter_text(p, encoding)


def _iter_jsonl(
    path: Path, id_field: str | None, fields: tuple[str, ...], separator: str, encoding: str
) -> Iterator[Document]:
    position = [0]
    number = 0
    for line in _decoded_lines(path, position, encoding):
        if not line.strip():
            continue
        where = f"{str(path)!r}, line {position[0]}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(
                f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); each line of a "
                "JSONL file must hold one JSON object"
            ) from None
        if not isinstance(record, dict):
            raise FormatError(
                f"{where}: expected a JSON object {{...}}; got a JSON {type(record).__name__}"
            )
        yield _from_record(record, id_field, fields, separator, where, str(number))
        number += 1


def _iter_csv(
    path: Path,
    id_field: str | None,
    fields: tuple[str, ...],
    separator: str,
    delimiter: str,
    encoding: str,
) -> Iterator[Document]:
    position = [0]
    reader = csv.reader(_decoded_lines(path, position, encoding), delimiter=delimiter)
    header: list[str] | None = None
    number = 0
    try:
        for row in reader:
            if header is None:
                header = row
                if id_field is not None and id_field not in header:
                    raise FormatError(
                        f"{str(path)!r}, line 1: the header row has no id column {id_field!r} "
                        f"(columns: {header}); pass the right id_field (or id_field=None)"
                    )
                if not any(f in header for f in fields):
                    raise FormatError(
                        f"{str(path)!r}, line 1: the header row has none of the text columns "
                        f"{list(fields)} (columns: {header}); pass the right text_fields"
                    )
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            where = f"{str(path)!r}, line {position[0]}"
            if len(row) != len(header):
                raise FormatError(
                    f"{where}: expected {len(header)} fields as in the header row; got {len(row)}"
                )
            record = dict(zip(header, row, strict=True))
            yield _from_record(record, id_field, fields, separator, where, str(number))
            number += 1
    except csv.Error as exc:
        raise FormatError(f"{str(path)!r}, line {position[0]}: malformed CSV ({exc})") from None


def _iter_text(path: Path, encoding: str) -> Iterator[Document]:
    position = [0]
    for line in _decoded_lines(path, position, encoding):
        text = line.rstrip("\r\n")
        if text.strip():
            yield Document(str(position[0] - 1), text, {})


def iter_document_batches(
    path: str | os.PathLike[str],
    batch_size: int = 1000,
    *,
    id_field: str | None = "_id",
    text_fields: Sequence[str] = ("title", "text"),
    format: str | None = None,
    separator: str = " ",
    encoding: str = "utf-8",
) -> Iterator[list[Document]]:
    """Stream the documents of ``path`` as lists of up to ``batch_size`` documents.

    Parameters are those of :func:`iter_documents`, plus ``batch_size`` (int
    >= 1). Every list but the last holds exactly ``batch_size`` documents.

    Raises
    ------
    InvalidParameterError
        If ``batch_size`` is not an int >= 1, or as :func:`iter_documents`.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidParameterError(f"batch_size must be an integer >= 1; got {batch_size!r}")
    docs = iter_documents(
        path,
        id_field=id_field,
        text_fields=text_fields,
        format=format,
        separator=separator,
        encoding=encoding,
    )
    while batch := list(islice(docs, batch_size)):
        yield batch


def _texts_and_ids(
    documents: Iterable[str | Document], ids: Iterable[str] | None = None
) -> tuple[list[str], list[str]]:
    """Materialise ``documents`` (str or :class:`Document`) as parallel text and id lists.

    Ids come from ``ids`` when given, else from the documents' ``id``, else
    are ``"0"``, ``"1"``, ...

    Raises
    ------
    InvalidParameterError
        If ``documents`` is a single str, an item is neither a str nor a
        Document, or ``ids`` has a different length or holds a non-str.
    """
    if isinstance(documents, (str, bytes)):
        raise InvalidParameterError(
            "documents must be an iterable of texts (or Documents); got a single "
            f"{type(documents).__name__}. Wrap it in a list: [text]"
        )
    texts: list[str] = []
    doc_ids: list[str] = []
    for i, doc in enumerate(documents):
        if isinstance(doc, Document):
            texts.append(doc.text)
            doc_ids.append(doc.id)
        elif isinstance(doc, str):
            texts.append(doc)
            doc_ids.append(str(i))
        else:
            raise InvalidParameterError(
                f"documents[{i}] must be a str or a Document; got {type(doc).__name__} {doc!r:.60}"
            )
    if ids is not None:
        if isinstance(ids, str):
            raise InvalidParameterError(
                "ids must be a sequence of str, one per document; got a str"
            )
        given = list(ids)
        if len(given) != len(texts):
            raise InvalidParameterError(
                f"ids must have one entry per document; got {len(given):,} ids for "
                f"{len(texts):,} documents"
            )
        if not all(isinstance(x, str) for x in given):
            bad = next(x for x in given if not isinstance(x, str))
            raise InvalidParameterError(f"ids must be str; got {type(bad).__name__} {bad!r}")
        doc_ids = given
    return texts, doc_ids
