"""The explorer in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

WebGL is software-rendered (SwiftShader), so these tests need no GPU.  They
skip only when the browser or Playwright is missing outside CI; under CI
(``CI`` set, as ``.ci/run`` runs) a missing browser fails them, since
``.ci/run`` installs it.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from embedforge import Embeddings

CHROMIUM = os.environ.get("EMBEDFORGE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{why}; .ci/run installs it (apt-get install -y chromium)")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing('Playwright is not installed (pip install "embedforge[dev]")')
    if not Path(CHROMIUM).is_file() and shutil.which("chromium") is None:
        _missing(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_words):
    context = browser.new_context(viewport={"width": 1200, "height": 800}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(live_words.url)
    pg.wait_for_selector("body[data-ready]", timeout=60_000)
    assert pg.get_attribute("body", "data-ready") == "true", pg.inner_text("#status")
    yield pg
    assert errors == []
    context.close()


def _ink(png: bytes) -> int:
    """Pixels of a PNG that are not the white background."""
    from matplotlib.image import imread

    pixels = imread(io.BytesIO(png), format="png")[..., :3]
    return int((np.abs(pixels - 1.0).max(axis=-1) > 0.1).sum())


def test_the_page_loads_and_the_points_render(page, words_dir):
    directory, _, _ = words_dir
    assert "324 keys" in page.inner_text("#title")
    assert "324 points" in page.inner_text("#status")
    shot = page.locator("#canvas").screenshot()
    # 324 points of 8 px: a blank canvas has no ink; drawn points leave thousands of pixels.
    assert _ink(shot) > 2000
    # The PCA projection was computed once and saved beside the vectors.
    assert (directory / "projections" / "pca-2d.npy").is_file()


def test_a_search_finds_a_key(page):
    page.fill("#search", "tulip")
    page.click("#search-button")
    page.wait_for_selector("#results li")
    assert page.locator("#results li .key").all_inner_texts() == ["tulip"]
    page.check("#regex")
    page.fill("#search", "^ro.e$")
    page.click("#search-button")
    page.wait_for_function("document.querySelector('#results li')?.dataset.key === 'rose'")
    assert page.locator("#results li .key").all_inner_texts() == ["rose"]


def _point_on_screen(page, key: str) -> tuple[float, float]:
    """Where a key's point is drawn: its normalised coordinates through the camera's view."""
    return page.evaluate(
        """(key) => {
            const { state, scatterplot } = window.explorer;
            const i = state.keys.indexOf(key);
            const view = scatterplot.get('cameraView');
            const x = state.normX[i], y = state.normY[i];
            const gx = view[0] * x + view[4] * y + view[12];
            const gy = view[1] * x + view[5] * y + view[13];
            const r = document.getElementById('canvas').getBoundingClientRect();
            // regl-scatterplot keeps the aspect ratio: the shorter side spans [-1, 1].
            const s = Math.min(r.width, r.height) / 2;
            return [r.left + r.width / 2 + gx * s, r.top + r.height / 2 - gy * s];
        }""",
        key,
    )


def test_a_click_on_a_point_lists_its_neighbours_as_most_similar(page, words_dir):
    directory, _, _ = words_dir
    emb = Embeddings.load(directory)
    # A point with no other point within 6 px on screen, so the click hits it alone.
    norm = np.array(
        page.evaluate(
            "[...window.explorer.state.normX].map((x, i) => [x, window.explorer.state.normY[i]])"
        )
    )
    dist = np.linalg.norm(norm[:, None] - norm[None], axis=-1)
    np.fill_diagonal(dist, np.inf)
    i = int(np.argmax(dist.min(axis=1)))
    key = emb.keys[i]
    x, y = _point_on_screen(page, key)
    page.mouse.move(x, y)
    page.wait_for_selector("#tooltip:not([hidden])")
    assert page.inner_text("#tooltip") == key
    page.mouse.click(x, y)
    page.wait_for_function(
        "(key) => document.getElementById('neighbors-panel').dataset.key === key", arg=key
    )
    shown = page.locator("#neighbors li").evaluate_all(
        "els => els.map(e => [e.dataset.key, Number(e.querySelector('.score').textContent)])"
    )
    expected = emb.most_similar(key, k=10)
    assert [k for k, _ in shown] == [k for k, _ in expected]
    assert np.allclose([s for _, s in shown], [s for _, s in expected], atol=1e-4)
    # The point and its neighbours are highlighted (selected) in the plot.
    selected = page.evaluate("window.explorer.scatterplot.get('selectedPoints')")
    assert sorted(selected) == sorted([i] + [emb.index(k) for k, _ in expected])


def test_colour_by_a_column_draws_a_legend(page, words_dir):
    _, _, label = words_dir
    page.select_option("#colour", "class")
    page.wait_for_selector("#legend .legend-row")
    legend = page.locator("#legend .legend-row").all_inner_texts()
    assert set(legend) == set(label.values()) | {"(none)"}


def test_the_analogy_box_answers_as_most_similar(page, words_dir):
    directory, _, _ = words_dir
    emb = Embeddings.load(directory)
    page.fill("#analogy-a", "rose")
    page.fill("#analogy-b", "tulip")
    page.fill("#analogy-c", "ant")
    page.click("#analogy-button")
    page.wait_for_selector("#analogy-results li")
    shown = page.locator("#analogy-results li .key").all_inner_texts()
    expected = emb.most_similar(positive=["tulip", "ant"], negative=["rose"], k=10)
    assert shown == [k for k, _ in expected]


def test_exports_png_csv_and_selected_keys(page, words_dir, tmp_path):
    directory, _, _ = words_dir
    emb = Embeddings.load(directory)
    with page.expect_download() as png:
        page.click("#export-png")
    assert _ink(Path(png.value.path()).read_bytes()) > 2000
    with page.expect_download() as csv_file:
        page.click("#export-csv")
    lines = Path(csv_file.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "key,x,y" and len(lines) == len(emb) + 1
    coords = np.load(directory / "projections" / "pca-2d.npy")
    first = lines[1].rsplit(",", 2)
    assert first[0] == emb.keys[0]
    assert np.allclose([float(first[1]), float(first[2])], coords[0], atol=1e-5)
    # A lasso around the whole view selects every point; its keys are exported.
    r = page.locator("#canvas").bounding_box()
    page.keyboard.down("Shift")
    page.mouse.move(r["x"] + 5, r["y"] + 5)
    page.mouse.down()
    for px, py in [
        (r["width"] - 5, 5),
        (r["width"] - 5, r["height"] - 5),
        (5, r["height"] - 5),
        (5, 5),
    ]:
        page.mouse.move(r["x"] + px, r["y"] + py, steps=8)
    page.mouse.up()
    page.keyboard.up("Shift")
    page.wait_for_function("document.getElementById('selection').dataset.count !== '0'")
    with page.expect_download() as sel:
        page.click("#export-selection")
    keys = Path(sel.value.path()).read_text(encoding="utf-8").split()
    assert sorted(keys) == sorted(emb.keys)


@pytest.fixture(scope="module")
def live_large(tmp_path_factory, live_server):
    """120,000 keys (beyond the Embedding Projector's 100,000 cap) served live.

    A seeded mixture of 30 Gaussian clusters in 32 dimensions: the test is about
    scale (drawing, search and neighbours over this many points), not meaning.
    """
    from embedforge.explore import create_app

    rng = np.random.default_rng(14)
    n, dim = 120_000, 32
    centres = rng.normal(size=(30, dim)) * 4
    vectors = (centres[rng.integers(0, 30, n)] + rng.normal(size=(n, dim))).astype(np.float32)
    directory = tmp_path_factory.mktemp("large") / "large"
    Embeddings([f"item{i:06d}" for i in range(n)], vectors).save(directory)
    with live_server(create_app(directory)) as server:
        yield server, directory


def test_120k_points_render_and_answer(browser, live_large):
    server, directory = live_large
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    pg = context.new_page()
    pg.goto(server.url)
    pg.wait_for_selector("body[data-ready]", timeout=180_000)
    assert pg.get_attribute("body", "data-ready") == "true"
    assert "120,000 points" in pg.inner_text("#status")
    assert pg.evaluate("window.explorer.scatterplot.get('points').length") == 120_000
    assert _ink(pg.locator("#canvas").screenshot()) > 20_000
    pg.fill("#search", "item11999")
    pg.click("#search-button")
    pg.wait_for_selector("#results li")
    assert pg.locator("#results li .key").all_inner_texts() == [f"item11999{d}" for d in range(10)]
    pg.click("#results li >> nth=0")
    pg.wait_for_function("document.getElementById('neighbors-panel').dataset.key === 'item119990'")
    shown = pg.locator("#neighbors li .key").all_inner_texts()
    emb = Embeddings.load(directory)
    assert shown == [k for k, _ in emb.most_similar("item119990", k=10)]
    context.close()


def test_hover_shows_a_documents_text(browser, collection_dir, tmp_path, live_server):
    from embedforge.explore import ExplorerData, create_app

    directory = tmp_path / "wiki"
    shutil.copytree(collection_dir, directory)
    data = ExplorerData(directory)
    with live_server(create_app(data)) as server:
        context = browser.new_context(viewport={"width": 1200, "height": 800})
        pg = context.new_page()
        pg.goto(server.url)
        pg.wait_for_selector("body[data-ready]", timeout=60_000)
        assert pg.is_hidden("#analogy-panel")
        norm = np.array(
            pg.evaluate(
                "[...window.explorer.state.normX].map((x, i) => [x, window.explorer.state.normY[i]])"
            )
        )
        dist = np.linalg.norm(norm[:, None] - norm[None], axis=-1)
        np.fill_diagonal(dist, np.inf)
        key = data.keys[int(np.argmax(dist.min(axis=1)))]
        x, y = _point_on_screen(pg, key)
        pg.mouse.move(x, y)
        pg.wait_for_function(
            "(key) => document.getElementById('tooltip').textContent.startsWith(key + ': ')",
            arg=key,
        )
        text = pg.inner_text("#tooltip")
        assert text.startswith(f"{key}: ") and data.document(key)["text"][:40] in text
        # A numeric metadata field colours continuously, with its range in the legend.
        pg.select_option("#colour", "length")
        pg.wait_for_selector("#legend .legend-bar")
        lengths = [len(data.document(k)["text"].split()) for k in data.keys]
        low, high = pg.locator("#legend .legend-ends span").all_inner_texts()
        assert float(low) == pytest.approx(min(lengths), rel=1e-2)
        assert float(high) == pytest.approx(max(lengths), rel=1e-2)
        context.close()


def test_the_report_opens_in_the_browser(browser, words_dir, tmp_path):
    """``embedforge report``'s page renders in Chromium: its inlined images (the compression
    curve of the word vectors as a mean-pooling encoder on the Wikipedia excerpt, and the map)
    decode."""
    from typer.testing import CliRunner

    from embedforge.cli import app

    directory = tmp_path / "words"
    shutil.copytree(words_dir[0], directory, ignore=shutil.ignore_patterns("projections"))
    out = tmp_path / "report.html"
    weat = Path(__file__).parents[1] / "data" / "weat_wefe" / "WEAT.json"
    args = ["report", str(directory), "--output", str(out), "--word-sets", str(weat)]
    args += ["--analogies", str(tmp_path / "none")]
    wiki = Path(__file__).parents[1] / "data" / "wiki_beir_excerpt"
    args += ["--data", str(wiki), "--dims", "100,32"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(out.as_uri())
    pg.wait_for_load_state("load")
    assert errors == []
    sizes = pg.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
    assert len(sizes) == 2 and all(done and width > 100 for done, width in sizes)
    text = pg.inner_text("body")
    assert "weat1" in text and "Compression curve" in text and "32\tbinary\tyes" in text
    context.close()


def test_switching_projection_redraws_the_saved_coordinates(browser, live_words, words_dir):
    from embedforge.maps import save_projection, saved_projection

    directory, _, _ = words_dir
    emb = Embeddings.load(directory)
    coords, _ = saved_projection(directory, "pca", 2)  # what the page shows first
    save_projection(directory, "swapped", coords[:, ::-1], emb.keys, {"method": "swapped"})
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    pg = context.new_page()
    pg.goto(live_words.url)
    pg.wait_for_selector("body[data-ready]", timeout=60_000)
    # other tests may have saved projections that sort before pca-2d: show pca-2d first
    pg.select_option("#projection", "pca-2d")
    # the page marks the body once the projection is drawn (the status line names it
    # while it is still loading)
    pg.wait_for_function("document.body.dataset.projection === 'pca-2d'")
    before = pg.evaluate(
        "[Array.from(window.explorer.state.normX), Array.from(window.explorer.state.normY)]"
    )
    pg.select_option("#projection", "swapped")
    # the page marks the body once the projection is drawn (the status line names it
    # while it is still loading)
    pg.wait_for_function("document.body.dataset.projection === 'swapped'")
    after = pg.evaluate(
        "[Array.from(window.explorer.state.normX), Array.from(window.explorer.state.normY)]"
    )
    assert np.allclose(after[0], before[1], atol=1e-6) and np.allclose(
        after[1], before[0], atol=1e-6
    )
    assert _ink(pg.locator("#canvas").screenshot()) > 2000
    context.close()


def test_the_page_sends_the_api_key_from_the_address(browser, words_dir, live_server):
    from embedforge.explore import create_app

    directory, _, _ = words_dir
    with live_server(create_app(directory, api_key="k3y")) as server:
        context = browser.new_context(viewport={"width": 1000, "height": 700})
        pg = context.new_page()
        pg.goto(server.url)
        pg.wait_for_selector("body[data-ready]", timeout=60_000)
        assert pg.get_attribute("body", "data-ready") == "error"
        assert "X-API-Key" in pg.inner_text("#status")
        pg.goto(server.url + "#key=k3y")
        pg.reload()
        pg.wait_for_selector("body[data-ready]", timeout=60_000)
        assert pg.get_attribute("body", "data-ready") == "true"
        assert "324 points" in pg.inner_text("#status")
        context.close()


@pytest.fixture(scope="module")
def live_3d(tmp_path_factory, words_dir, live_server):
    """A copy of the word vectors with a saved 3-D PCA projection (and the 2-D one), served live."""
    from embedforge.explore import create_app
    from embedforge.maps import saved_projection

    src, meta, _ = words_dir
    directory = tmp_path_factory.mktemp("three") / "words"
    shutil.copytree(src, directory, ignore=shutil.ignore_patterns("projections"))
    saved_projection(directory, "pca", 2)
    coords, _ = saved_projection(directory, "pca", 3)
    with live_server(create_app(directory, metadata=meta)) as server:
        yield server, directory, coords


@pytest.fixture
def page_3d(browser, live_3d):
    """The page switched to the saved 3-D projection."""
    server, _, _ = live_3d
    context = browser.new_context(viewport={"width": 1000, "height": 700}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(server.url)
    pg.wait_for_selector("body[data-ready]", timeout=60_000)
    assert pg.get_attribute("body", "data-ready") == "true"
    pg.select_option("#projection", "pca-3d")
    pg.wait_for_selector("body[data-projection='pca-3d']", timeout=30_000)
    yield pg
    assert errors == []
    context.close()


def _difference(a: bytes, b: bytes) -> int:
    """Pixels that differ between two PNG screenshots of the same size."""
    from matplotlib.image import imread

    pa, pb = (imread(io.BytesIO(x), format="png")[..., :3] for x in (a, b))
    return int((np.abs(pa - pb).max(axis=-1) > 0.1).sum())


def test_a_3d_projection_renders_rotates_and_exports(page_3d, live_3d):
    _, directory, coords = live_3d
    pg = page_3d
    assert pg.is_hidden("#canvas") and pg.is_visible("#plot3d canvas")
    assert pg.is_hidden("#selection")  # lasso selection is 2-D only
    before = pg.locator("#plot3d").screenshot()
    assert _ink(before) > 2000
    # dragging rotates the cloud: the camera moves and the picture changes
    box = pg.locator("#plot3d").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    pg.mouse.move(cx, cy)
    pg.mouse.down()
    pg.mouse.move(cx + 160, cy + 40, steps=8)
    pg.mouse.up()
    after = pg.locator("#plot3d").screenshot()
    assert _ink(after) > 2000 and _difference(before, after) > 1000
    # the coordinates export holds the saved 3-D projection
    with pg.expect_download() as csv_file:
        pg.click("#export-csv")
    lines = Path(csv_file.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "key,x,y,z" and len(lines) == len(coords) + 1
    first = lines[1].rsplit(",", 3)
    assert np.allclose([float(v) for v in first[1:]], coords[0], atol=1e-5)
    with pg.expect_download() as png:
        pg.click("#export-png")
    assert _ink(Path(png.value.path()).read_bytes()) > 2000
    # and back to the flat map
    pg.select_option("#projection", "pca-2d")
    pg.wait_for_selector("body[data-projection='pca-2d']")
    assert pg.is_hidden("#plot3d") and pg.is_visible("#selection")
    assert _ink(pg.locator("#canvas").screenshot()) > 2000


def test_a_click_in_3d_lists_the_neighbours_as_most_similar(page_3d, live_3d):
    _, directory, _ = live_3d
    pg = page_3d
    emb = Embeddings.load(directory)
    # the point farthest on screen from any other, so the click hits it alone
    screen = np.array(
        pg.evaluate(
            "window.explorer.state.keys.map((_, i) => window.explorer.view3d.screenPosition(i))"
        )
    )[:, :2]
    dist = np.linalg.norm(screen[:, None] - screen[None], axis=-1)
    np.fill_diagonal(dist, np.inf)
    i = int(np.argmax(dist.min(axis=1)))
    box = pg.locator("#plot3d").bounding_box()
    x, y = box["x"] + screen[i, 0], box["y"] + screen[i, 1]
    pg.mouse.move(x, y)
    pg.wait_for_selector("#tooltip:not([hidden])")
    assert pg.inner_text("#tooltip") == emb.keys[i]
    before = pg.locator("#plot3d").screenshot()
    pg.mouse.click(x, y)
    pg.wait_for_function(
        "(key) => document.getElementById('neighbors-panel').dataset.key === key", arg=emb.keys[i]
    )
    shown = pg.locator("#neighbors li").evaluate_all(
        "els => els.map(e => [e.dataset.key, Number(e.querySelector('.score').textContent)])"
    )
    expected = emb.most_similar(emb.keys[i], k=10)
    assert [k for k, _ in shown] == [k for k, _ in expected]
    assert np.allclose([s for _, s in shown], [s for _, s in expected], atol=1e-4)
    assert pg.evaluate("window.explorer.state.selected") == [i] + [
        emb.index(k) for k, _ in expected
    ]
    # the point and its neighbours are drawn highlighted; colouring by a column recolours
    highlighted = pg.locator("#plot3d").screenshot()
    assert _difference(before, highlighted) > 50
    pg.select_option("#colour", "class")
    pg.wait_for_selector("#legend .legend-row")
    assert _difference(highlighted, pg.locator("#plot3d").screenshot()) > 200
    # a search highlights its matches in the cloud
    pg.fill("#search", "tulip")
    pg.click("#search-button")
    pg.wait_for_selector("#results li")
    pg.wait_for_function("window.explorer.state.selected.length === 1")
    assert pg.evaluate("window.explorer.state.selected") == [emb.index("tulip")]
