"""The ``embedforge`` command line: a thin layer over the library, one module per command group.

Each subcommand parses its arguments and calls one public function; errors
from embedforge are printed as one line (``error: ...``) with exit status 2,
never as a traceback. The command tree:

- ``train word2vec|fasttext|glove|tfidf|lsa|random-projection`` (:mod:`.train`);
  ``train deepwalk|node2vec``, ``evaluate-nodes``, ``evaluate-links`` (:mod:`.graph`);
  ``train softmax-skipgram|image-encoder|devise|dual-encoder|sentence-encoder``,
  ``evaluate-retrieval-classes``, ``evaluate-zero-shot`` (:mod:`.neural`)
- ``evaluate``, ``evaluate-retrieval`` (:mod:`.evaluate`); ``compress-report`` (:mod:`.compress`)
- ``similar``, ``analogy`` (:mod:`.query`); ``explore`` (:mod:`.explore`)
- ``convert`` (:mod:`.convert`)
- ``datasets list|fetch`` (:mod:`.datasets`)
- ``index create|add|info``, ``search``, ``serve`` (:mod:`.search`)
- ``train bpr|als``, ``recommend``, ``similar-items``, ``evaluate-recommendations`` (:mod:`.recommend`)
- ``audit``, ``debias`` (:mod:`.audit`)
- ``map``, ``export-projector``, ``report`` (:mod:`.maps`)
- ``notes index|related|search|watch|serve`` (:mod:`.notes`)
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from . import (
    audit,
    compress,
    convert,
    evaluate,
    explore,
    graph,
    maps,
    neural,
    query,
    recommend,
    search,
)
from .datasets import datasets_app
from .notes import notes_app
from .train import train_app

__all__ = ["app", "run"]

app = typer.Typer(
    name="embedforge",
    help="Train, evaluate, query and convert embeddings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    """embedforge: vectors that keep your data's meaning."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


app.add_typer(train_app, name="train")
app.add_typer(datasets_app, name="datasets")
app.command("evaluate-retrieval")(evaluate.evaluate_retrieval_command)
app.command("compress-report")(compress.compress_report)
app.command("similar")(query.similar)
app.command("analogy")(query.analogy)
app.command("evaluate")(evaluate.evaluate)
app.command("convert")(convert.convert)
app.add_typer(search.index_app, name="index")
app.command("search")(search.search)
app.command("serve")(search.serve)
app.command("explore")(explore.explore)
train_app.command("deepwalk")(graph.train_deepwalk)
train_app.command("node2vec")(graph.train_node2vec)
app.command("evaluate-nodes")(graph.evaluate_nodes)
app.command("evaluate-links")(graph.evaluate_links)
train_app.command("bpr")(recommend.train_bpr)
train_app.command("als")(recommend.train_als)
app.command("recommend")(recommend.recommend)
app.command("similar-items")(recommend.similar_items)
app.command("evaluate-recommendations")(recommend.evaluate_recommendations)
train_app.command("softmax-skipgram")(neural.train_softmax_skipgram)
train_app.command("image-encoder")(neural.train_image_encoder)
train_app.command("sentence-encoder")(neural.train_sentence_encoder)
app.command("evaluate-retrieval-classes")(neural.evaluate_retrieval_classes)
train_app.command("devise")(neural.train_devise)
train_app.command("dual-encoder")(neural.train_dual_encoder)
app.command("evaluate-zero-shot")(neural.evaluate_zero_shot)
app.command("audit")(audit.audit)
app.command("debias")(audit.debias)
app.command("map")(maps.map_command)
app.command("export-projector")(maps.export_projector_command)
app.command("report")(maps.report_command)
app.add_typer(notes_app, name="notes")


def run() -> None:  # pragma: no cover - console entry point
    app(prog_name="embedforge")
