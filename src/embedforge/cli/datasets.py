"""``embedforge datasets ...``: the named public data sets."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import reports_errors

datasets_app = typer.Typer(help="List and fetch the named public data sets.", no_args_is_help=True)


@datasets_app.command("list")
def datasets_list() -> None:
    """Show the registered data sets and where each comes from."""
    from ..datasets import list_datasets

    for info in list_datasets():
        typer.echo(f"{info.name:22s} {info.description}")


@datasets_app.command("fetch")
def datasets_fetch(
    name: Annotated[str, typer.Argument(help="A registered data set name.")],
) -> None:
    """Find NAME in the local mirror or download it (checksum verified); print its path."""
    from ..datasets import fetch

    with reports_errors():
        typer.echo(str(fetch(name)))
