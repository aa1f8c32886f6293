"""What the command groups share: option types, the option templates, error reporting.

Not public API.  Each command parses its arguments and calls one library
function; errors from embedforge (and missing or unreadable files) print one
line ``error: ...`` and exit with status 2, never a traceback.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ..errors import EmbedforgeError

__all__ = [
    "USER_ERRORS",
    "CorpusArg",
    "OutputOpt",
    "ProgressOpt",
    "SeedOpt",
    "WorkersOpt",
    "enum_values",
    "load_vectors",
    "parse_numbers",
    "reports_errors",
    "with_options",
]

#: Errors reported as one line: embedforge's own, and missing or unreadable files.
USER_ERRORS = (EmbedforgeError, OSError)

_F = TypeVar("_F", bound=Callable[..., Any])


@contextmanager
def reports_errors() -> Iterator[None]:
    """Turn an embedforge error (or OSError) into ``error: <message>`` on stderr and exit 2."""
    try:
        yield
    except USER_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None


def with_options(template: Callable[..., Any], **defaults: Any) -> Callable[[_F], _F]:
    """Give a command the keyword options of ``template``, declared once for several commands.

    ``template`` is a function whose parameters (annotated with typer options
    and defaults) are appended to the command's own; ``defaults`` overrides a
    default for this command. The command receives them in ``**options``.
    Typer reads the command's ``__signature__``, so ``--help`` lists them all.
    """
    shared = inspect.signature(template, eval_str=True).parameters.values()
    unknown = set(defaults) - {p.name for p in shared}
    if unknown:  # a programming error in this package, not user input
        raise TypeError(f"{template.__name__} has no option {sorted(unknown)}")
    extra = [p.replace(default=defaults.get(p.name, p.default)) for p in shared]

    def decorate(command: _F) -> _F:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        command.__signature__ = signature.replace(parameters=[*own, *extra])  # type: ignore[attr-defined]
        return command

    return decorate


def enum_values(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with each Enum choice replaced by its string value (what the library takes)."""
    return {k: v.value if isinstance(v, Enum) else v for k, v in options.items()}


def parse_numbers(
    text: str | None, option: str, kind: type = int, example: str = "1,10,100"
) -> tuple[Any, ...] | None:
    """``"1,10,100"`` -> ``(1, 10, 100)`` (``kind`` of each item); None stays None.

    Raises InvalidParameterError naming ``option`` and an ``example`` when an item
    is not a number of that kind.
    """
    from ..errors import InvalidParameterError

    if text is None:
        return None
    try:
        return tuple(kind(x) for x in text.split(",") if x.strip())
    except ValueError:
        what = "integers" if kind is int else "numbers"
        raise InvalidParameterError(
            f"{option} must be comma-separated {what} such as {example}; got {text!r}"
        ) from None


def load_vectors(path: Path):
    """Word vectors from a saved model or Embeddings directory, or a word2vec file."""
    from ..embeddings import Embeddings

    if path.is_dir():
        return Embeddings.load(path)
    binary = path.suffix == ".bin" or path.name.endswith((".bin.gz", ".bin.bz2"))
    return Embeddings.load_word2vec_format(path, binary=binary)


# Option types used by several groups: type and help here, each command keeps its own default.
CorpusArg = Annotated[
    str,
    typer.Argument(
        help="Text file (one sentence per line; .gz/.bz2 ok) or a data set name "
        "(text8, text8_prefix, enwiki2015, enwiki2015_text8size)."
    ),
]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Directory to save the model to.")]
WorkersOpt = Annotated[int | None, typer.Option(help="Threads (default: all cores).")]
SeedOpt = Annotated[int, typer.Option(help="Random seed.")]
ProgressOpt = Annotated[bool, typer.Option(help="Show a progress bar.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
