"""BPR and ALS on planted taste groups: recommendations, similar items, new users, partial_fit,
save/load, serving the item vectors from a Collection."""

from __future__ import annotations

import numpy as np
import pytest
from _planted import group_of_item, group_of_user, planted

import embedforge
from embedforge import ALS, BPR, Collection, Embeddings
from embedforge.errors import InvalidParameterError, NotFittedError, UnknownKeyError
from embedforge.recommend import Interactions

FAST = {
    BPR: dict(factors=8, epochs=60, learning_rate=0.05, workers=1, seed=3, progress=False),
    ALS: dict(factors=4, epochs=10, alpha=2.0, regularization=1.0, workers=1, seed=3,
              progress=False),
}  # fmt: skip
MODELS = list(FAST)


def _fit(cls, **over):
    return cls(**{**FAST[cls], **over}).fit(planted())


def _own_group_share(model, users, ids) -> float:
    good = [
        group_of_item(model.items_[i]) == group_of_user(str(u))
        for u, row in zip(users, ids, strict=True)
        for i in row.tolist()
    ]
    return float(np.mean(good))


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_recommends_unseen_items_of_the_users_group(cls):
    data = planted()
    model = _fit(cls)
    ids, scores = model.recommend(data.users, k=5)
    assert ids.shape == scores.shape == (60, 5) and ids.dtype == np.int64
    assert scores.dtype == np.float32 and (np.diff(scores, axis=1) <= 0).all()
    for u, row in enumerate(ids):
        seen = set(data.matrix.indices[data.matrix.indptr[u] : data.matrix.indptr[u + 1]].tolist())
        assert not seen & set(row.tolist())
    assert _own_group_share(model, data.users, ids) > 0.9
    # scores are the inner products of the embeddings
    u0 = model.user_embeddings_["u00"]
    np.testing.assert_allclose(scores[0], model.item_embeddings_.vectors[ids[0]] @ u0, rtol=1e-5)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_recommend_pads_and_can_keep_seen_items(cls):
    model = _fit(cls)
    ids, scores = model.recommend("u00", k=50)
    assert ids.shape == (1, 50) and (ids[0, 36:] == -1).all() and np.isneginf(scores[0, 36:]).all()
    all_ids, _ = model.recommend(["u00"], k=45, filter_seen=False)
    assert (all_ids >= 0).all()
    with pytest.raises(UnknownKeyError, match="recommend_new_user"):
        model.recommend(["nobody"])
    with pytest.raises(InvalidParameterError, match="k must be"):
        model.recommend("u00", k=0)
    with pytest.raises(NotFittedError):
        cls().recommend("u00")


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_similar_items_share_the_group(cls):
    model = _fit(cls)
    items = ["i00", "i20", "i40"]
    ids, scores = model.similar_items(items, k=5)
    assert ids.shape == (3, 5) and scores.max() <= 1.0 + 1e-5
    for key, row in zip(items, ids, strict=True):
        assert key not in [model.items_[i] for i in row]
        assert np.mean([group_of_item(model.items_[i]) == group_of_item(key) for i in row]) >= 0.8


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_fold_in_of_a_training_user_is_close_to_its_row(cls):
    data = planted()
    model = _fit(cls)
    agree = []
    for u in ("u03", "u25", "u51"):
        row = data.user_rows(u)[0]
        cols = data.matrix.indices[data.matrix.indptr[row] : data.matrix.indptr[row + 1]]
        weights = data.matrix.data[data.matrix.indptr[row] : data.matrix.indptr[row + 1]]
        vector = model.user_vector([data.items[c] for c in cols], weights)
        trained = model.user_embeddings_[u]
        cosine = vector @ trained / np.linalg.norm(vector) / np.linalg.norm(trained)
        assert cosine > (0.99 if cls is ALS else 0.6), (u, cosine)
        ids, _ = model.recommend_new_user([data.items[c] for c in cols], weights, k=5)
        want, _ = model.recommend(u, k=5)
        agree.append(len(set(ids[0].tolist()) & set(want[0].tolist())) / 5)
    assert np.mean(agree) >= (0.8 if cls is ALS else 0.5)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_new_user_from_items_gets_that_group(cls):
    model = _fit(cls)
    ids, scores = model.recommend_new_user(["i16", "i17", "i18", "i20"], k=5)
    assert ids.shape == (1, 5)
    assert not {"i16", "i17", "i18", "i20"} & {model.items_[i] for i in ids[0]}
    assert np.mean([group_of_item(model.items_[i]) == 1 for i in ids[0]]) >= 0.8
    with pytest.raises(UnknownKeyError):
        model.recommend_new_user(["nothing"])
    with pytest.raises(InvalidParameterError, match="weights"):
        model.recommend_new_user(["i16"], [float("nan")])


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_partial_fit_adds_users_and_items_and_leaves_others(cls):
    model = _fit(cls)
    before = model.user_factors_.copy()
    n_items = len(model.items_)
    new = Interactions.from_arrays(
        ["new1"] * 6 + ["new2"] * 6,
        ["i31", "i32", "i33", "i34", "i35", "brand_new", "i01", "i02", "i03", "i04", "i05", "i06"],
    )
    assert model.partial_fit(new) is model
    assert model.users_[-2:] == ["new1", "new2"] and model.items_[-1] == "brand_new"
    assert model.item_factors_.shape[0] == n_items + 1
    np.testing.assert_array_equal(model.user_factors_[:60], before)  # untouched users kept
    ids, _ = model.recommend(["new1", "new2"], k=4)
    assert (
        np.mean(
            [group_of_item(model.items_[i]) == 2 for i in ids[0] if model.items_[i] != "brand_new"]
        )
        >= 0.75
    )
    assert np.mean([group_of_item(model.items_[i]) == 0 for i in ids[1]]) >= 0.75
    assert model.user_items_.shape == (62, n_items + 1) and model.user_items_.nnz == 540 + 12


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_save_load_through_embedforge_load(cls, tmp_path):
    model = _fit(cls)
    model.save(tmp_path / "m")
    loaded = embedforge.load(tmp_path / "m")
    assert type(loaded) is cls and loaded.get_params() == model.get_params()
    for a, b in zip(model.recommend(["u01", "u40"]), loaded.recommend(["u01", "u40"]), strict=True):
        np.testing.assert_array_equal(a, b)
    mapped = cls.load(tmp_path / "m", mmap=True)
    np.testing.assert_array_equal(mapped.similar_items("i03")[0], model.similar_items("i03")[0])


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_item_vectors_serve_from_a_collection(cls, tmp_path):
    model = _fit(cls)
    items: Embeddings = model.item_embeddings_
    collection = Collection.create(
        tmp_path / "items", encoder=None, dim=items.dim, metric="inner_product"
    )
    collection.add([(k, k) for k in items.keys], vectors=np.asarray(items.vectors), progress=False)
    found = collection.search(model.user_embeddings_["u07"], k=5)
    want, _ = model.recommend("u07", k=5, filter_seen=False)
    assert found.ids[0].tolist() == [model.items_[i] for i in want[0]]


def test_bpr_with_popularity_negatives_and_two_workers_still_learns():
    data = planted()
    model = _fit(BPR, negatives="popularity", workers=2)
    ids, _ = model.recommend(data.users, k=5)
    assert _own_group_share(model, data.users, ids) > 0.8
    # No loss check here: with popularity negatives (hard ones) and two racing workers the
    # per-epoch loss stays near log(2) and moves by a few percent either way, so "last
    # epoch below the first" failed once in CI.  The recommendations above are the outcome.
    assert len(model.loss_history_) == model.epochs and np.isfinite(model.loss_history_).all()


def test_als_loss_falls_and_workers_do_not_change_the_result():
    one = _fit(ALS)
    two = _fit(ALS, workers=2)
    assert one.user_factors_.tobytes() == two.user_factors_.tobytes()
    assert one.loss_history_[-1] < one.loss_history_[0]
