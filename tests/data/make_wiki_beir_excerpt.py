"""Build tests/data/wiki_beir_excerpt/: a small BEIR-layout retrieval fixture from Wikipedia.

Source: ``enwiki2015_text8style`` in the shared data directory (English Wikipedia 2015, text8-style
normalised, one article per line; CC BY-SA 3.0, attribution: Wikipedia contributors). Standard
library only; the output is deterministic::

    python tests/data/make_wiki_beir_excerpt.py --data-dir /work/shared/data

Documents: the first 40 articles (page-id order) with at least 800 tokens, leaving out titles with
"(disambiguation)" or starting with "List of"; ``_id`` is the page id, ``title`` the article's
title, ``text`` its first <= 1,500 characters cut at a space, ``metadata`` empty (as in BEIR).

Queries are derived, not human judgements; every span lies beyond the document's 1,500 characters,
so the query words are not copied from the indexed text:

- known-item queries ``q1``... from every 4th document: the 8 tokens starting at the article's
  middle token; the source article is relevant with score 1;
- two "mention" queries: from the first two odd-numbered documents that, past their token 400,
  name another fixture article whose title is one word (5+ letters): the 8 tokens starting 3
  before that mention; the source article scores 2 and the named article 1;
- two unjudged queries (no qrels): middle spans of the next two qualifying articles, which are
  not in the corpus.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
from pathlib import Path

N_DOCS = 40
MIN_TOKENS = 800
TEXT_CHARS = 1500
SPAN = 8
MENTION_START = 400


def _articles(source: Path):
    """Yield (page_id, title, tokens) for qualifying articles, in corpus order."""
    with (
        gzip.open(source / "articles.tsv.gz", "rt", encoding="utf-8") as meta,
        gzip.open(source / "enwiki2015_25M.txt.gz", "rt", encoding="ascii") as text,
    ):
        header = meta.readline().rstrip("\n").split("\t")
        if header != ["page_id", "title", "tokens"]:
            raise SystemExit(f"unexpected header in articles.tsv.gz: {header}")
        for row, line in zip(meta, text, strict=False):
            page_id, title, count = row.rstrip("\n").split("\t")
            tokens = line.split()
            if len(tokens) != int(count):
                raise SystemExit(f"article {page_id}: {len(tokens)} tokens, table says {count}")
            if len(tokens) < MIN_TOKENS or "(disambiguation)" in title:
                continue
            if title.startswith("List of"):
                continue
            yield page_id, title, tokens


def _document_text(tokens: list[str]) -> str:
    text = " ".join(tokens)[: TEXT_CHARS + 1]
    return text[: text.rindex(" ")] if len(text) > TEXT_CHARS else text


def build(source: Path, out: Path) -> None:
    selected = []
    for article in _articles(source):
        selected.append(article)
        if len(selected) == N_DOCS + 2:
            break
    docs, extra = selected[:N_DOCS], selected[N_DOCS:]
    corpus = [
        {"_id": pid, "title": title, "text": _document_text(tokens), "metadata": {}}
        for pid, title, tokens in docs
    ]

    queries: list[dict] = []
    qrels: list[tuple[str, str, int]] = []

    def add(source_doc, start: int, judgements: list[tuple[str, int]]) -> None:
        pid, title, tokens = source_doc
        qid = f"q{len(queries) + 1}"
        meta = {"source_id": pid, "source_title": title, "token": start}
        queries.append({"_id": qid, "text": " ".join(tokens[start : start + SPAN]),
                        "metadata": meta})  # fmt: skip
        qrels.extend((qid, doc_id, score) for doc_id, score in judgements)

    for doc in docs[::4]:
        add(doc, len(doc[2]) // 2, [(doc[0], 1)])

    one_word = {
        title.lower(): pid for pid, title, _ in docs if re.fullmatch(r"[A-Za-z]{5,}", title)
    }
    mentions = 0
    for doc in docs[1::2]:
        pid, _, tokens = doc
        hit = next(
            (i for i in range(MENTION_START, len(tokens) - SPAN)
             if one_word.get(tokens[i], pid) != pid),
            None,
        )  # fmt: skip
        if hit is None:
            continue
        add(doc, hit - 3, [(pid, 2), (one_word[tokens[hit]], 1)])
        mentions += 1
        if mentions == 2:
            break
    if mentions < 2:
        raise SystemExit("fewer than two mention queries found")

    for doc in extra:
        pid, title, tokens = doc
        queries.append({"_id": f"q{len(queries) + 1}",
                        "text": " ".join(tokens[len(tokens) // 2 : len(tokens) // 2 + SPAN]),
                        "metadata": {"source_id": pid, "source_title": title,
                                     "token": len(tokens) // 2}})  # fmt: skip

    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(json.dumps(record) + "\n" for record in corpus)
    with open(out / "queries.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(json.dumps(record) + "\n" for record in queries)
    with open(out / "qrels" / "test.tsv", "w", encoding="utf-8", newline="") as fh:
        fh.write("query-id\tcorpus-id\tscore\r\n")
        fh.writelines(f"{q}\t{d}\t{s}\r\n" for q, d, s in qrels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("EMBEDFORGE_DATA_DIR"),
                        help="shared data directory (default: $EMBEDFORGE_DATA_DIR)")  # fmt: skip
    parser.add_argument("--output", default=str(Path(__file__).parent / "wiki_beir_excerpt"))
    args = parser.parse_args()
    if not args.data_dir:
        parser.error("pass --data-dir or set EMBEDFORGE_DATA_DIR")
    build(Path(args.data_dir) / "enwiki2015_text8style", Path(args.output))


if __name__ == "__main__":
    main()
