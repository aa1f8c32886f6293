"""Make the frozen WEFE 1.0.1 comparison fixture of tests/audit/test_weat_wefe.py.

Two steps, two Python environments (WEFE 1.0.1 pins numpy<2 and scipy 1.12, so it
cannot share embedforge's environment; it ran once in a throwaway venv under /tmp
that is not part of the repository):

1. ``export`` (embedforge's environment): the vectors of the WEAT words that a
   saved embedforge model knows, in word2vec text format (``vectors.txt``).
   Each WEAT word keeps its own spelling ("Adam") and gets the vector of its
   lower-cased key ("adam"): the corpus is lower-cased.  Words the model lacks
   are left out, so both libraries see the same vocabulary::

       PYTHONPATH=src python tests/data/weat_wefe/make_fixture.py export MODEL_DIR

2. ``wefe`` (a venv with ``pip install wefe==1.0.1``; ``benchmarks/weat_audit.py``
   makes one with pinned versions in ``benchmarks/.peers/wefe``): WEFE's WEAT
   statistic and effect size for the ten tests on ``vectors.txt`` (``wefe_weat.json``)::

       benchmarks/.peers/wefe/bin/python tests/data/weat_wefe/make_fixture.py wefe
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WEAT_JSON = HERE / "WEAT.json"  # copy of the weat data set (WEFE, MIT: LICENSE.wefe)

# Caliskan et al.'s ten tests as (X, Y, A, B) set names of WEAT.json (= embedforge.audit.WEAT_TESTS)
TESTS = {
    "weat1": ("flowers", "insects", "pleasant_5", "unpleasant_5a"),
    "weat2": ("instruments", "weapons", "pleasant_5", "unpleasant_5a"),
    "weat3": (
        "european_american_names_5",
        "african_american_names_5",
        "pleasant_5",
        "unpleasant_5b",
    ),
    "weat4": (
        "european_american_names_7",
        "african_american_names_7",
        "pleasant_5",
        "unpleasant_5b",
    ),
    "weat5": (
        "european_american_names_7",
        "african_american_names_7",
        "pleasant_9",
        "unpleasant_9",
    ),
    "weat6": ("male_names", "female_names", "career", "family"),
    "weat7": ("math", "arts", "male_terms", "female_terms"),
    "weat8": ("science", "arts_2", "male_terms_2", "female_terms_2"),
    "weat9": ("mental_disease", "physical_disease", "temporary", "permanent"),
    "weat10": ("young_people_names", "old_people_names", "pleasant_9", "unpleasant_9"),
}


def export(model_dir: str) -> None:
    import numpy as np

    import embedforge

    model = embedforge.load(model_dir)
    wv = getattr(model, "wv", model)
    sets = json.loads(WEAT_JSON.read_text(encoding="utf-8"))
    words = sorted({w for v in sets.values() for w in v})
    table = {k.lower(): i for i, k in reversed(list(enumerate(wv.keys)))}
    rows = [(w, table[w.lower()]) for w in words if w.lower() in table]
    vectors = np.asarray(wv.vectors)
    with open(HERE / "vectors.txt", "w", encoding="utf-8") as fh:
        fh.write(f"{len(rows)} {vectors.shape[1]}\n")
        for w, i in rows:
            fh.write(w + " " + " ".join(f"{x:.6f}" for x in vectors[i]) + "\n")
    print(f"{len(rows)} of {len(words)} WEAT words written")


def wefe() -> None:
    import wefe as wefe_pkg
    from gensim.models import KeyedVectors
    from wefe.metrics import WEAT
    from wefe.query import Query
    from wefe.word_embedding_model import WordEmbeddingModel

    kv = KeyedVectors.load_word2vec_format(HERE / "vectors.txt", binary=False)
    model = WordEmbeddingModel(kv, "fixture")
    sets = json.loads(WEAT_JSON.read_text(encoding="utf-8"))
    out = {"wefe_version": wefe_pkg.__version__, "tests": {}}
    for name, (x, y, a, b) in TESTS.items():
        query = Query([sets[x], sets[y]], [sets[a], sets[b]], [x, y], [a, b])
        r = WEAT().run_query(
            query, model, lost_vocabulary_threshold=0.99, warn_not_found_words=False
        )
        out["tests"][name] = {"weat": float(r["weat"]), "effect_size": float(r["effect_size"])}
    (HERE / "wefe_weat.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    if sys.argv[1] == "export":
        export(sys.argv[2])
    else:
        wefe()
