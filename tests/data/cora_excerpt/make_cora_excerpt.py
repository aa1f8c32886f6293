"""Rebuild tests/data/cora_excerpt from the Cora Planetoid files (needs EMBEDFORGE_DATA_DIR).

The excerpt: the largest connected component of the subgraph of Cora induced by the papers of
three classes (Planetoid class ids 0, 1 and 2; the Planetoid files carry no class names, so
the ids are kept); node keys are Planetoid node indices.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import connected_components

from embedforge.graph import read_cora

HERE = Path(__file__).parent
CLASSES = {"0", "1", "2"}


def main() -> None:
    data = read_cora("cora")
    g = data.graph
    keep = np.array([data.labels[name][0] in CLASSES for name in g.names])
    src, dst, _ = g.edges()
    inside = keep[src] & keep[dst] & (src != dst)
    src, dst = src[inside], dst[inside]
    import scipy.sparse as sp

    n = g.n_nodes
    adj = sp.coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    _, comp = connected_components(adj, directed=False)
    sizes = np.bincount(comp[keep])
    best = np.flatnonzero(sizes == sizes.max())[0]
    in_comp = comp == best
    lines = sorted(
        (int(a), int(b)) for a, b in zip(src.tolist(), dst.tolist(), strict=True) if in_comp[a]
    )
    nodes = sorted({x for e in lines for x in e})
    (HERE / "edges.txt").write_text(
        "# Cora (Planetoid node ids) excerpt: see tests/data/README.md\n"
        + "".join(f"{a} {b}\n" for a, b in lines)
    )
    (HERE / "labels.txt").write_text("".join(f"{v} {data.labels[str(v)][0]}\n" for v in nodes))
    print(len(nodes), "nodes", len(lines), "edges")


if __name__ == "__main__":
    main()
