"""``embedforge explore``: the browser explorer of saved embeddings (:mod:`embedforge.explore`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import reports_errors


def explore(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Saved Embeddings, model (word, document, graph, recommendation) or collection."
        ),
    ],
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8765,
    metadata: Annotated[
        Path | None,
        typer.Option(help="CSV/TSV with a header row: a 'key' column (or the first) and fields."),
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the page in a browser.")
    ] = False,
    api_key_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the API key the page must send."),
    ] = None,
    allow_unauthenticated: Annotated[
        bool,
        typer.Option(
            "--allow-unauthenticated",
            help="Serve an address other than loopback without an API key (anyone who can "
            "reach it can read every key and vector neighbourhood).",
        ),
    ] = False,
) -> None:
    """Open DIR in the browser: a WebGL map with search, neighbours, colours and exports.

    Projections are read from DIR/projections, or computed once (PCA first) and
    saved there. Binding an address other than 127.0.0.1 / localhost needs
    --api-key-env (open the page as http://HOST:PORT/#key=KEY), or
    --allow-unauthenticated on purpose.
    """
    import os

    from ..errors import InvalidParameterError
    from ..explore import serve

    with reports_errors():
        api_key = None
        if api_key_env is not None:
            api_key = os.environ.get(api_key_env)
            if not api_key:
                raise InvalidParameterError(
                    f"--api-key-env {api_key_env}: the environment variable {api_key_env} is "
                    "not set or empty; export it first"
                )
        serve(
            directory, host=host, port=port, metadata=metadata, api_key=api_key,
            open_browser=not no_browser, allow_unauthenticated=allow_unauthenticated,
        )  # fmt: skip
