"""Related notes against the links people wrote: the Dendron vault, encoders and scoring choices.

The 1,012 notes of ``dendron_site/vault`` link to each other 1,800 times
(distinct note pairs, read with Dendron's ``[[label|target]]`` syntax; the
data README counts 1,799).  Those links are the relevance judgements: for each
of the 431 notes with a resolvable outgoing link, are its linked notes among
its related notes?  The notes are embedded from a copy of the vault with every
wikilink and embed removed, link text included (no leakage), through the
library's own path: ``NoteVault.index`` then ``NoteVault.related(k=10)``.

Compared in one run, on the same copy:

- encoders: TF-IDF (fitted on the vault's chunks, 4,096 terms, sublinear tf),
  SIF over word2vec vectors trained here on the link-stripped vault itself
  (our Word2Vec, skip-gram, 100 dims, 20 epochs; no outside corpus), and
  MiniLM (all-MiniLM-L6-v2);
- whole notes (one vector per note, MiniLM truncating at 256 word pieces)
  against chunks of at most 128 (and 64) words;
- how chunk scores become note scores: max, mean, top-m (m = 2, 3);
- a hybrid: (1 - w) * encoder score + w * TF-IDF cosine of whole notes,
  w in {0, 0.2, 0.3, 0.5}; w = 1 is whole-note TF-IDF alone, the baseline
  (the issue's author measured 0.232 recall@10 for it).

Then the time to index the vault from scratch and, on the warm index, after
editing one note (a sentence appended; best of --repeats notes), each with
the encoder's own time shown apart.

    EMBEDFORGE_DATA_DIR=../shared/data python benchmarks/notes_links.py

Appends its tables to BENCHMARKS.md (``--no-record`` to skip).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from _harness import publish, section, versions
from embedforge.evaluate import score_retrieval
from embedforge.notes import NoteVault
from embedforge.notes.evaluation import copy_without_links, link_judgements
from embedforge.notes.vault import DEFAULT_MAX_TOKENS

WEIGHTS = (0.0, 0.2, 0.3, 0.5, 0.7)
AGGREGATIONS = (("max", 1), ("mean", 1), ("top-m", 2), ("top-m", 3))


def train_sif(vault: Path, out: Path) -> Path:
    """A SIF encoder over word2vec trained on the (link-stripped) vault's text, saved to ``out``."""
    from embedforge import SIFEncoder, Word2Vec

    texts = [p.read_text(encoding="utf-8") for p in sorted(vault.glob("**/*.md"))]
    sentences = [re.findall(r"[a-z]+", line.lower()) for t in texts for line in t.split("\n")]
    sentences = [s for s in sentences if len(s) > 1]
    w2v = Word2Vec(dim=100, window=5, min_count=2, epochs=20, seed=1, workers=2, progress=False)
    w2v.fit(sentences)
    SIFEncoder(w2v.wv, n_components=1).fit(texts).save(out)
    return out


def tfidf_baseline(root: Path, qrels: dict) -> dict:
    """The peer: whole-note TF-IDF cosine (sublinear tf), each note's text without front matter."""
    from embedforge import TfIdf
    from embedforge.notes.markdown import split_front_matter

    ids = sorted(p.relative_to(root).as_posix() for p in root.glob("**/*.md"))
    texts = []
    for note in ids:
        lines = (root / note).read_text(encoding="utf-8").split("\n")
        texts.append("\n".join(lines[split_front_matter(lines)[1] :]))
    matrix = TfIdf(sublinear_tf=True).fit(texts).transform(texts).tocsr()
    sims = (matrix @ matrix.T).toarray()
    np.fill_diagonal(sims, -np.inf)
    position = {n: i for i, n in enumerate(ids)}
    run = {}
    for note in qrels:
        row = sims[position[note]]
        top = np.argsort(-row, kind="stable")[:10]
        run[note] = {ids[j]: float(row[j]) for j in top}
    result = score_retrieval(run, qrels, k=(5, 10))
    return {"r5": result.recall[5], "r10": result.recall[10], "ndcg10": result.ndcg[10]}


def evaluate(vault: NoteVault, qrels: dict, aggregation: str, m: int, weight: float) -> dict:
    related = vault.related(list(qrels), k=10, aggregation=aggregation, m=m, lexical_weight=weight)
    run = {r.note: {x.note: x.score for x in r.related} for r in related}
    result = score_retrieval(run, qrels, k=(5, 10))
    return {"r5": result.recall[5], "r10": result.recall[10], "ndcg10": result.ndcg[10]}


def edit_timings(vault: NoteVault, root: Path, notes: list[str], repeats: int) -> dict:
    """Best re-index time after appending a sentence to one note (warm vault, encoder loaded)."""
    best = None
    for note in notes[:repeats]:
        path = root / note
        original = path.read_bytes()
        path.write_bytes(original + b"\nOne more sentence about publishing notes to a website.\n")
        report = vault.index()
        path.write_bytes(original)
        vault.index()
        if best is None or report.seconds < best.seconds:
            best = report
    assert best is not None
    return {"seconds": best.seconds, "encode": best.encode_seconds, "chunks": best.chunks_encoded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data = Path(os.environ.get("EMBEDFORGE_DATA_DIR", "../shared/data"))
    parser.add_argument("--vault", default=str(data / "dendron_site" / "vault"))
    parser.add_argument("--encoders", default="tfidf,sif,minilm")
    parser.add_argument("--chunks", default="whole,128,64", help="'whole' and/or word budgets")
    parser.add_argument("--repeats", type=int, default=3, help="edited notes timed (best kept)")
    parser.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="notes_links."))
    try:
        qrels = link_judgements(args.vault, syntax="dendron")
        stripped = work / "vault"
        n_notes = copy_without_links(args.vault, stripped)
        n_pairs = sum(len(v) for v in qrels.values())
        print(f"{n_notes} notes, {len(qrels)} with links, {n_pairs} linked pairs", flush=True)
        specs: dict[str, str] = {}
        t0 = time.perf_counter()
        for name in args.encoders.split(","):
            specs[name] = str(train_sif(stripped, work / "sif")) if name == "sif" else name
        sif_train = time.perf_counter() - t0
        budgets = [None if c == "whole" else int(c) for c in args.chunks.split(",")]

        rows = []  # (encoder, chunks, aggregation, m, weight, metrics)
        timings = []  # (encoder, chunks, scratch report, edit dict)
        baseline = tfidf_baseline(stripped, qrels)
        lexical = None
        for name, spec in specs.items():
            for budget in budgets:
                label = "whole note" if budget is None else f"chunks <= {budget} words"
                vault = NoteVault(
                    stripped,
                    index_dir=work / f"idx-{name}-{budget}",
                    encoder=spec,
                    max_tokens=0 if budget is None else budget,
                )
                scratch = vault.index()
                print(f"{name} {label}: indexed {scratch}", flush=True)
                edit = edit_timings(vault, stripped, sorted(qrels)[::97], args.repeats)
                timings.append((name, label, scratch, edit))
                combos = [("max", 1)] if budget is None else AGGREGATIONS
                weights = WEIGHTS if name != "tfidf" else (0.0,)
                for aggregation, m in combos:
                    for w in weights:
                        metrics = evaluate(vault, qrels, aggregation, m, w)
                        rows.append((name, label, aggregation, m, w, metrics))
                        print(name, label, aggregation, m, w, metrics, flush=True)
                if lexical is None:  # the library's lexical score alone (w = 1)
                    lexical = evaluate(vault, qrels, "max", 1, 1.0)
                vault.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    default = NoteVault(".")
    is_default = {
        "encoder": "minilm",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "aggregation": default.aggregation,
        "m": default.m,
        "w": default.lexical_weight,
    }
    best = max(rows, key=lambda r: r[5]["r10"])
    lines = [
        *section(
            f"Related notes against written links: Dendron vault, {n_notes:,} notes, "
            f"{len(qrels)} linking notes, {n_pairs:,} linked pairs",
            "EMBEDFORGE_DATA_DIR=../shared/data python benchmarks/notes_links.py "
            + " ".join(f"{a}" for a in (f"--encoders {args.encoders}", f"--chunks {args.chunks}")),
            versions("numpy", "sklearn", "faiss", "sentence_transformers", "torch"),
            key="notes_links",
        ),
        "Judgements: the notes each note links to (`[[label|target]]`, resolvable, self-links and "
        "embeds excluded). The embedded text is a copy of the vault with every wikilink and embed "
        "removed, link text included. k = 10 related notes per linking note. Peer (the baseline): "
        "whole-note TF-IDF cosine (sublinear tf, full vocabulary, the note's text without front "
        "matter). "
        f"SIF: word2vec trained on the link-stripped vault itself ({sif_train:.0f} s, SIF fit "
        "included), 100 dims. `w`: weight of the whole-note TF-IDF cosine in the score. "
        "**bold**: the best recall@10 of the run.",
        "",
        "| encoder | unit | aggregation | w | recall@5 | recall@10 | nDCG@10 | recall@10 vs TF-IDF |",
        "|---|---|---|---:|---:|---:|---:|---:|",
        f"| TF-IDF (lexical only) | whole note | - | 1 | {baseline['r5']:.3f} | "
        f"{baseline['r10']:.3f} | {baseline['ndcg10']:.3f} | 1.00x |",
        f"| lexical score of the hybrid (w = 1) | whole note + path words | - | 1 | "
        f"{lexical['r5']:.3f} | {lexical['r10']:.3f} | {lexical['ndcg10']:.3f} | "
        f"{lexical['r10'] / baseline['r10']:.2f}x |",
    ]
    for name, label, aggregation, m, w, metrics in rows:
        agg = f"top-{m}" if aggregation == "top-m" else aggregation
        mark = (name, label, aggregation, m, w) == best[:5]
        cells = (
            f"{name} | {label} | {agg} | {w:g} | {metrics['r5']:.3f} | {metrics['r10']:.3f} | "
            f"{metrics['ndcg10']:.3f} | {metrics['r10'] / baseline['r10']:.2f}x"
        )
        if mark:
            cells = " | ".join(f"**{c.strip()}**" for c in cells.split("|"))
        lines.append(f"| {cells} |")
    lines += [
        "",
        f"Best recall@10: {best[0]}, {best[1]}, {best[2]}"
        f"{' m=' + str(best[3]) if best[2] == 'top-m' else ''}, w={best[4]:g}: "
        f"{best[5]['r10']:.3f} (TF-IDF alone: {baseline['r10']:.3f}). The library's default "
        f"when this ran: {is_default['encoder']}, chunks <= {is_default['max_tokens']} words, "
        f"{is_default['aggregation']} (m={is_default['m']}), w={is_default['w']:g}.",
        "",
        "Index time (seconds; encoder = time inside the encoder's `encode`, of the total). "
        "Edit: one note changed (a sentence appended), `index()` again on the warm vault "
        f"(encoder loaded), best of {args.repeats} notes. Target: edit < 2 s on top of encoding.",
        "",
        "| encoder | unit | from scratch | of which encoder | edit one note | of which encoder "
        "| edit minus encoder |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, label, scratch, edit in timings:
        lines.append(
            f"| {name} | {label} | {scratch.seconds:.1f} | {scratch.encode_seconds:.1f} | "
            f"{edit['seconds']:.2f} | {edit['encode']:.2f} | {edit['seconds'] - edit['encode']:.2f} |"
        )
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
