"""Projections, saved projections, static maps and the TensorBoard export, on real vectors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from typer.testing import CliRunner

from embedforge import Embeddings, FormatError, InvalidParameterError
from embedforge.audit import read_weat_word_sets
from embedforge.cli import app
from embedforge.maps import (
    export_projector,
    list_projections,
    load_projection,
    plot_map,
    project,
    read_metadata,
    saved_projection,
)

FIXTURE = Path(__file__).parents[1] / "data" / "weat_wefe"
CLASSES = ("flowers", "insects", "instruments", "weapons", "career", "family")


@pytest.fixture(scope="module")
def words() -> tuple[Embeddings, list[str]]:
    """WEAT words of four sets (real word2vec vectors) and the set each belongs to."""
    vectors = Embeddings.load_word2vec_format(FIXTURE / "vectors.txt")
    sets = read_weat_word_sets(FIXTURE / "WEAT.json")
    keys, labels = [], []
    for name in CLASSES:
        for w in sets[name]:
            if w in vectors and w not in keys:
                keys.append(w)
                labels.append(name)
    return Embeddings(keys, vectors[keys]), labels


def test_pca_is_scikit_learns_pca(words):
    emb, _ = words
    coords = project(emb, "pca", dim=3)
    expected = PCA(n_components=3, svd_solver="full").fit_transform(emb.vectors)
    assert coords.shape == (len(emb), 3) and coords.dtype == np.float32
    assert np.allclose(coords, expected, atol=1e-4)


def test_pca_on_a_sample_places_every_row(words):
    emb, _ = words
    coords = project(emb, "pca", sample=60, seed=2)
    assert coords.shape == (len(emb), 2) and np.isfinite(coords).all()
    assert np.array_equal(coords, project(emb, "pca", sample=60, seed=2))


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_nonlinear_maps_keep_neighbourhoods_and_are_seeded(words, method):
    emb, _ = words
    coords = project(emb, method, seed=1)
    assert coords.shape == (len(emb), 2) and coords.dtype == np.float32
    assert np.array_equal(coords, project(emb, method, seed=1))
    # the 2-D neighbours are mostly true neighbours, and better kept than by PCA
    t = trustworthiness(emb.vectors, coords, n_neighbors=5)
    assert t > 0.8 and t > trustworthiness(emb.vectors, project(emb, "pca"), n_neighbors=5)


def test_bad_parameters_name_themselves(words):
    emb, _ = words
    for kwargs, name in [
        ({"method": "mds"}, "method"),
        ({"dim": 4}, "dim"),
        ({"sample": 1}, "sample"),
    ]:
        with pytest.raises(InvalidParameterError, match=name):
            project(emb, **kwargs)


def test_saved_projection_is_computed_once_and_checked_against_the_keys(words, tmp_path):
    emb, _ = words
    directory = tmp_path / "emb"
    emb.save(directory)
    coords, loaded = saved_projection(directory, "pca")
    npy = directory / "projections" / "pca-2d.npy"
    stamp = os.stat(npy).st_mtime_ns
    again, _ = saved_projection(directory, "pca")
    assert np.array_equal(coords, again) and os.stat(npy).st_mtime_ns == stamp
    meta = json.loads((directory / "projections" / "pca-2d.json").read_text())
    assert meta["params"] == {"method": "pca", "dim": 2, "seed": 0, "sample": None}
    assert meta["n"] == len(emb) and meta["library"].startswith("scikit-learn")
    assert [m["name"] for m in list_projections(directory)] == ["pca-2d"]
    assert Embeddings.load(directory).keys == loaded.keys  # the folder does not disturb loading
    with pytest.raises(FormatError, match="other keys"):
        load_projection(directory, "pca-2d", keys=list(reversed(emb.keys)))
    # other parameters under the same name: recomputed and replaced
    sampled, _ = saved_projection(directory, "pca", sample=50)
    assert load_projection(directory, "pca-2d")[1]["params"]["sample"] == 50
    assert np.array_equal(load_projection(directory, "pca-2d")[0], sampled)


def test_plot_map_colours_classes_and_labels_never_overlap(words, tmp_path):
    emb, labels = words
    coords = project(emb, "pca")
    out = tmp_path / "map.png"
    fig = plot_map(
        coords, emb.keys, labels, color_name="set", n_labels=40, title="PCA 2-D", output=out
    )
    ax = fig.axes[0]
    assert ax.get_title() == "PCA 2-D"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == sorted(CLASSES)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert 5 <= len(boxes) <= 40
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0
    import matplotlib.image

    image = matplotlib.image.imread(out)
    assert image.ndim == 3 and image[..., :3].std() > 0.01  # not blank


def test_plot_map_svg_and_continuous_colours(words, tmp_path):
    emb, _ = words
    coords = project(emb, "pca")
    out = tmp_path / "map.svg"
    fig = plot_map(coords, emb.keys, list(range(len(emb))), color_name="rank", output=out)
    assert out.read_text().lstrip().startswith(("<?xml", "<svg"))
    assert len(fig.axes) == 2  # the map and its colour bar


def test_export_projector_writes_the_three_files(words, tmp_path):
    emb, labels = words
    meta = dict(zip(emb.keys, ({"set": s} for s in labels), strict=True))
    export_projector(emb, tmp_path / "tb", meta)
    vectors = np.loadtxt(tmp_path / "tb" / "vectors.tsv", delimiter="\t")
    assert np.allclose(vectors, emb.vectors, atol=1e-4)
    rows = (tmp_path / "tb" / "metadata.tsv").read_text().splitlines()
    assert rows[0] == "key\tset" and rows[1] == f"{emb.keys[0]}\t{labels[0]}"
    assert len(rows) == len(emb) + 1
    config = (tmp_path / "tb" / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "vectors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config


def test_map_command_colours_by_a_metadata_field(words, tmp_path):
    emb, labels = words
    directory = tmp_path / "emb"
    emb.save(directory)
    meta = tmp_path / "meta.csv"
    meta.write_text(
        "key,set\n" + "".join(f"{k},{s}\n" for k, s in zip(emb.keys, labels, strict=True))
    )
    assert read_metadata(meta)[emb.keys[0]] == {"set": labels[0]}
    out = tmp_path / "map.png"
    args = ["map", str(directory), "--method", "pca", "--color-by", "set"]
    result = CliRunner().invoke(app, [*args, "--metadata", str(meta), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 10_000 and (directory / "projections" / "pca-2d.npy").is_file()
    bad = CliRunner().invoke(app, [*args[:-1], "colour", "--metadata", str(meta), "-o", str(out)])
    assert bad.exit_code == 2 and "colour" in bad.output


def test_map_command_saves_a_3d_projection_for_the_explorer(words, tmp_path):
    emb, _ = words
    directory = tmp_path / "emb"
    emb.save(directory)
    result = CliRunner().invoke(app, ["map", str(directory), "--dim", "3"])
    assert result.exit_code == 0, result.output
    coords, meta = load_projection(directory, "pca-3d", emb.keys)
    assert coords.shape == (len(emb), 3) and meta["dim"] == 3
    assert np.allclose(coords, project(emb, "pca", 3), atol=1e-6)
    out = tmp_path / "map3.png"
    drawn = CliRunner().invoke(app, ["map", str(directory), "--dim", "3", "-o", str(out)])
    assert drawn.exit_code == 0 and out.stat().st_size > 10_000
    bad = CliRunner().invoke(app, ["map", str(directory), "--dim", "4"])
    assert bad.exit_code == 2 and "--dim" in bad.output


def test_export_projector_command(words, tmp_path):
    emb, _ = words
    emb.save(tmp_path / "emb")
    result = CliRunner().invoke(
        app,
        ["export-projector", str(tmp_path / "emb"), "-o", str(tmp_path / "tb"), "--limit", "10"],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tb" / "metadata.tsv").read_text().splitlines() == emb.keys[:10]
