"""Every loss against a plain, slow Python loop on random data: values and gradients (float64)."""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch")

from embedforge.errors import InvalidParameterError  # noqa: E402
from embedforge.neural.losses import (  # noqa: E402
    BatchHardMiner,
    CLIPLoss,
    ContrastiveLoss,
    CoSENTLoss,
    CosineSimilarity,
    CosineSimilarityLoss,
    DotProductSimilarity,
    EuclideanDistance,
    GradCacheLoss,
    HingeRankLoss,
    InfoNCELoss,
    MatryoshkaLoss,
    NormalizedSoftmaxLoss,
    SemiHardMiner,
    TripletMarginLoss,
)

N, DIM = 12, 5


def _data(seed: int = 0, n: int = N, n_classes: int = 3):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, DIM, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, n_classes, (n,), generator=g)
    return x, y


# ------------------------------------------------------------------ slow references


def _dist(name: str, u, v):
    """One pair, from the definitions."""
    if name == "cosine":
        return sum(a * b for a, b in zip(u, v, strict=True)) / (
            sum(a * a for a in u) ** 0.5 * sum(b * b for b in v) ** 0.5
        )
    if name == "dot":
        return sum(a * b for a, b in zip(u, v, strict=True))
    return sum((a - b) ** 2 for a, b in zip(u, v, strict=True)) ** 0.5


def _rows(x):
    return [list(r) for r in x]  # lists of 0-d tensors: autograd flows through the loop


def slow_contrastive(x, y, name, pos_margin, neg_margin):
    rows, terms = _rows(x), []
    for i, j in itertools.permutations(range(len(rows)), 2):
        d = _dist(name, rows[i], rows[j])
        d = 1 - d if name == "cosine" else (-d if name == "dot" else d)
        if y[i] == y[j]:
            terms.append(0.5 * torch.relu(d - pos_margin) ** 2)
        else:
            terms.append(0.5 * torch.relu(neg_margin - d) ** 2)
    return sum(terms) / len(terms)


def _closeness(name, u, v):
    d = _dist(name, u, v)
    return -d if name == "euclidean" else d


def slow_triplet(x, y, name, margin, miner):
    rows = _rows(x)
    n = len(rows)
    c = [[_closeness(name, rows[i], rows[j]) for j in range(n)] for i in range(n)]
    cv = [[c[i][j].item() for j in range(n)] for i in range(n)]
    triplets = []
    for a in range(n):
        pos = [p for p in range(n) if p != a and y[p] == y[a]]
        neg = [q for q in range(n) if y[q] != y[a]]
        if miner == "batch_hard":
            if pos and neg:
                p = min(pos, key=lambda j: (cv[a][j], j))
                q = max(neg, key=lambda j: (cv[a][j], -j))
                triplets.append((a, p, q))
            continue
        for p in pos:
            for q in neg:
                gap = cv[a][p] - cv[a][q]
                if miner == "semihard" and not (0 < gap < margin):
                    continue
                triplets.append((a, p, q))
    losses = [torch.relu(margin - (c[a][p] - c[a][q])) for a, p, q in triplets]
    nonzero = sum(1 for v in losses if v.item() > 0)
    return sum(losses) / max(nonzero, 1)


def slow_infonce(a, b, scale, symmetric):
    ra, rb = _rows(a), _rows(b)
    n = len(ra)

    def direction(q, k):
        total = 0
        for i in range(n):
            logits = [scale * _dist("cosine", q[i], k[j]) for j in range(len(k))]
            total = total - (logits[i] - torch.logsumexp(torch.stack(logits), 0))
        return total / n

    forward = direction(ra, rb)
    return 0.5 * (forward + direction(rb[:n], ra)) if symmetric else forward


def slow_hinge_rank(x, y, t, margin):
    """DeViSE's equation 1, one image and one wrong label at a time."""
    rows, labels = _rows(x), _rows(t)
    total = 0
    for i, row in enumerate(rows):
        true = _dist("dot", labels[int(y[i])], row)
        for j, other in enumerate(labels):
            if j != int(y[i]):
                total = total + torch.relu(margin - true + _dist("dot", other, row))
    return total / len(rows)


def _grad(fn, *tensors):
    for t in tensors:
        t.grad = None
    value = fn()
    value.backward()
    return value.detach(), [t.grad.clone() for t in tensors]


def _close(fast, slow, tensors):
    v1, g1 = _grad(fast, *tensors)
    v2, g2 = _grad(slow, *tensors)
    assert torch.allclose(v1, v2, rtol=1e-9, atol=1e-12), (v1, v2)
    assert float(v1) > 0
    for a, b in zip(g1, g2, strict=True):
        assert torch.allclose(a, b, rtol=1e-7, atol=1e-10)
        assert a.abs().sum() > 0


# ------------------------------------------------------------------ tests


@pytest.mark.parametrize("name", ["euclidean", "cosine"])
def test_contrastive_equals_the_slow_loop(name):
    x, y = _data(1)
    loss = ContrastiveLoss(distance=name, pos_margin=0.1, neg_margin=1.5)
    _close(lambda: loss(x, y), lambda: slow_contrastive(x, y, name, 0.1, 1.5), [x])


@pytest.mark.parametrize("miner", ["batch_all", "batch_hard", "semihard"])
@pytest.mark.parametrize("name", ["cosine", "euclidean", "dot"])
def test_triplet_with_each_miner_equals_the_slow_loop(name, miner):
    x, y = _data(2)
    margin = 0.5 if name == "cosine" else 1.0
    loss = TripletMarginLoss(margin=margin, distance=name, miner=miner)
    _close(lambda: loss(x, y), lambda: slow_triplet(x, y, name, margin, miner), [x])


def test_semihard_triplets_satisfy_the_definition():
    x, y = _data(3, n=20)
    d = EuclideanDistance()(x.detach())
    a, p, n = SemiHardMiner(margin=1.0)(-d, y)
    assert a.numel() > 0
    assert bool(((d[a, p] < d[a, n]) & (d[a, n] < d[a, p] + 1.0)).all())
    assert bool((y[a] == y[p]).all() and (y[a] != y[n]).all() and (a != p).all())


def test_semihard_blocks_find_every_semihard_triplet_in_order():
    """A batch of 300 spans several anchor blocks; the triplets, in order, equal filtering
    every valid triplet by the definition."""
    from embedforge.neural.losses.miners import all_triplets

    torch.manual_seed(5)
    x = torch.nn.functional.normalize(torch.randn(300, 16), dim=1)
    y = torch.randint(0, 6, (300,))
    s = x @ x.T
    a, p, n = SemiHardMiner(margin=0.2)(s, y)
    ea, ep, en = all_triplets(y)
    gap = s[ea, ep] - s[ea, en]
    keep = (gap > 0) & (gap < 0.2)
    assert a.numel() > 100_000
    for got, want in ((a, ea[keep]), (p, ep[keep]), (n, en[keep])):
        assert torch.equal(got, want)


def test_batch_hard_picks_the_furthest_positive_and_closest_negative():
    x, y = _data(4, n=16)
    s = CosineSimilarity()(x.detach())
    a, p, n = BatchHardMiner()(s, y)
    for i, j, k in zip(a.tolist(), p.tolist(), n.tolist(), strict=True):
        same = [m for m in range(16) if m != i and y[m] == y[i]]
        other = [m for m in range(16) if y[m] != y[i]]
        assert s[i, j] == min(s[i, m] for m in same)
        assert s[i, k] == max(s[i, m] for m in other)


def test_normalized_softmax_equals_the_slow_loop():
    x, y = _data(5)
    loss = NormalizedSoftmaxLoss(n_classes=3, dim=DIM, temperature=0.1).double()
    w = loss.proxies

    def slow():
        total = 0
        for i, row in enumerate(_rows(x)):
            logits = [_dist("cosine", row, list(w[c])) / 0.1 for c in range(3)]
            total = total - (logits[int(y[i])] - torch.logsumexp(torch.stack(logits), 0))
        return total / len(y)

    _close(lambda: loss(x, y), slow, [x, w])


@pytest.mark.parametrize("symmetric", [False, True])
def test_infonce_equals_the_slow_loop(symmetric):
    a, _ = _data(6, n=8)
    b, _ = _data(7, n=8)
    loss = InfoNCELoss(temperature=0.1, symmetric=symmetric).double()
    assert loss.scale.item() == pytest.approx(10.0)
    _close(lambda: loss(a, b), lambda: slow_infonce(a, b, loss.scale.item(), symmetric), [a, b])


def test_infonce_extra_negatives_are_candidates():
    a, _ = _data(8, n=6)
    b, _ = _data(9, n=6)
    neg, _ = _data(10, n=4)
    loss = InfoNCELoss(temperature=0.05).double()
    _close(
        lambda: loss(a, b, neg),
        lambda: slow_infonce(a, torch.cat([b, neg]), loss.scale.item(), False),
        [a, b, neg],
    )


def test_clip_loss_learns_its_temperature_and_equals_the_slow_loop():
    a, _ = _data(11, n=8)
    b, _ = _data(12, n=8)
    loss = CLIPLoss().double()
    assert loss.scale.item() == pytest.approx(1 / 0.07)
    _close(lambda: loss(a, b), lambda: slow_infonce(a, b, loss.scale, True), [a, b])
    loss.zero_grad()
    loss(a, b).backward()
    assert loss.log_scale.grad is not None and float(loss.log_scale.grad) != 0.0


def test_clip_loss_is_symmetric_in_images_and_texts():
    a, _ = _data(14, n=8)
    b, _ = _data(15, n=8)
    loss = CLIPLoss().double()
    assert torch.allclose(loss(a, b), loss(b, a), rtol=1e-12)
    one_way = InfoNCELoss(temperature=0.07).double()
    assert not torch.allclose(one_way(a, b), one_way(b, a))


def test_hinge_rank_loss_equals_the_slow_loop():
    x, _ = _data(16)
    g = torch.Generator().manual_seed(17)
    t = torch.randn(4, DIM, generator=g, dtype=torch.float64)
    t = (t / t.norm(dim=1, keepdim=True)).requires_grad_(True)
    y = torch.randint(0, 4, (N,), generator=g)
    loss = HingeRankLoss(margin=0.5)
    _close(lambda: loss(x, y, t), lambda: slow_hinge_rank(x, y, t, 0.5), [x, t])
    # some terms inactive, some active: the hinge is exercised on both sides
    scores = (x @ t.T).detach()
    gaps = 0.5 - scores.gather(1, y[:, None]) + scores
    assert (gaps > 0).sum() > N and (gaps < 0).sum() > 0
    with pytest.raises(InvalidParameterError, match="share dim"):
        loss(x, y, t[:, :3])


def test_matryoshka_is_the_weighted_sum_over_prefixes():
    x, y = _data(13)
    inner = TripletMarginLoss(margin=0.3, distance="cosine")
    loss = MatryoshkaLoss(inner, dims=(2, 3, 5), weights=(1.0, 0.5, 2.0))

    def expected():
        return sum(
            w * slow_triplet(x[:, :d], y, "cosine", 0.3, "batch_all")
            for d, w in zip((2, 3, 5), (1.0, 0.5, 2.0), strict=True)
        )

    _close(lambda: loss(x, y), expected, [x])


def test_matryoshka_distillation_is_the_kl_to_the_fixed_full_width_ranking():
    a, _ = _data(21, n=6)
    b, _ = _data(22, n=6)
    scale, dims = 7.0, (2, 3, 5)
    loss = MatryoshkaLoss(
        InfoNCELoss(temperature=1 / scale).double(), dims, distill=0.4, distill_scale=scale
    )

    def softmaxes(d):  # one row of in-batch probabilities per anchor, from the definitions
        ra, rb = _rows(a[:, :d]), _rows(b[:, :d])
        rows = []
        for i in range(len(ra)):
            logits = torch.stack([scale * _dist("cosine", ra[i], rb[j]) for j in range(len(rb))])
            rows.append(torch.softmax(logits, 0))
        return rows

    def expected():
        inner = float(loss.loss.scale)  # exp(log 7) held as a float32 buffer
        ranking = sum(slow_infonce(a[:, :d], b[:, :d], inner, False) for d in dims)
        teacher = [p.detach() for p in softmaxes(5)]  # the full width, held fixed
        kl = 0
        for d in (2, 3):
            for p, q in zip(teacher, softmaxes(d), strict=True):
                kl = kl + (p * (p.log() - q.log())).sum()
        return ranking + 0.4 * kl / len(teacher)

    _close(lambda: loss(a, b), expected, [a, b])
    with pytest.raises(InvalidParameterError, match="distill"):
        MatryoshkaLoss(InfoNCELoss(), dims, distill=-1.0)


def test_distances_are_the_definitions():
    x, _ = _data(14, n=4)
    y, _ = _data(15, n=3)
    rx, ry = _rows(x.detach()), _rows(y.detach())
    for dist, name in [(CosineSimilarity(), "cosine"), (DotProductSimilarity(), "dot"),
                       (EuclideanDistance(), "euclidean")]:  # fmt: skip
        m = dist(x.detach(), y.detach())
        assert m.shape == (4, 3)
        for i in range(4):
            for j in range(3):
                assert float(m[i, j]) == pytest.approx(float(_dist(name, rx[i], ry[j])), rel=1e-9)


def test_a_batch_without_triplets_gives_a_zero_that_backpropagates():
    x, _ = _data(16, n=4)
    loss = TripletMarginLoss()(x, torch.arange(4))  # every label distinct: no positive
    loss.backward()
    assert loss.item() == 0.0 and x.grad is not None


def test_bad_choices_name_the_parameter():
    with pytest.raises(InvalidParameterError, match="distance"):
        TripletMarginLoss(distance="manhattan")
    with pytest.raises(InvalidParameterError, match="miner"):
        TripletMarginLoss(miner="hardest")
    with pytest.raises(InvalidParameterError, match="reducer"):
        ContrastiveLoss(reducer="median")
    with pytest.raises(InvalidParameterError, match="dims"):
        MatryoshkaLoss(TripletMarginLoss(), dims=())


# ------------------------------------------------------------------ scored pairs and the gradient cache


def slow_cosent(a, b, scores, scale):
    cos = [scale * _dist("cosine", u, v) for u, v in zip(_rows(a), _rows(b), strict=True)]
    terms = [torch.zeros((), dtype=torch.float64)]
    for i, j in itertools.product(range(len(cos)), repeat=2):
        if scores[i] > scores[j]:
            terms.append(cos[j] - cos[i])
    return torch.log(sum(torch.exp(t) for t in terms))


def slow_cosine_mse(a, b, scores):
    rows = list(zip(_rows(a), _rows(b), strict=True))
    return sum(
        (_dist("cosine", u, v) - s) ** 2 for (u, v), s in zip(rows, scores, strict=True)
    ) / len(rows)


def _scored(seed: int):
    a, _ = _data(seed, n=8)
    b, _ = _data(seed + 1, n=8)
    g = torch.Generator().manual_seed(seed)
    scores = torch.randint(0, 6, (8,), generator=g).double() / 5  # STS-like, with ties
    return a, b, scores


def test_cosent_equals_the_slow_loop():
    a, b, scores = _scored(20)
    loss = CoSENTLoss(scale=20.0)
    _close(lambda: loss(a, b, scores), lambda: slow_cosent(a, b, scores, 20.0), [a, b])


def test_cosent_only_uses_the_order_of_the_scores():
    a, b, scores = _scored(22)
    loss = CoSENTLoss()
    assert torch.allclose(loss(a, b, scores), loss(a, b, scores**3 + 7))


def test_cosine_similarity_loss_equals_the_slow_loop():
    a, b, scores = _scored(24)
    loss = CosineSimilarityLoss()
    _close(lambda: loss(a, b, scores), lambda: slow_cosine_mse(a, b, scores), [a, b])


def test_scored_losses_check_shapes():
    a, b, scores = _scored(26)
    with pytest.raises(InvalidParameterError, match="scores"):
        CoSENTLoss()(a, b, scores[:3])


class _TinyEncoder(torch.nn.Module):
    """Bag of token vectors, a linear layer and dropout: a model with random state in its forward."""

    def __init__(self):
        super().__init__()
        self.tokens = torch.nn.EmbeddingBag(50, 16, mode="mean")
        self.linear = torch.nn.Linear(16, 8)
        self.dropout = torch.nn.Dropout(0.2)

    def forward(self, ids):
        return self.linear(self.dropout(self.tokens(ids)))


def _model_grads(fn, model):
    model.zero_grad()
    fn().backward()
    return [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("matryoshka", [False, True])
def test_grad_cache_gives_the_gradients_of_the_plain_loss(matryoshka):
    torch.manual_seed(0)
    model = _TinyEncoder().double().train()
    g = torch.Generator().manual_seed(1)
    anchors, positives, negatives = (torch.randint(0, 50, (10, 4), generator=g) for _ in range(3))
    inner = InfoNCELoss(temperature=0.05)
    if matryoshka:
        inner = MatryoshkaLoss(inner, dims=(8, 4, 2), weights=(1.0, 0.5, 0.25))

    def embed(m, ids):
        return m(ids)

    def plain():
        return inner(model(anchors), model(positives), model(negatives))

    cached = GradCacheLoss(inner, embed, mini_batch_size=3)
    torch.manual_seed(5)
    expected = _model_grads(plain, model)
    torch.manual_seed(5)  # same dropout masks: the columns are embedded in the same order
    got = _model_grads(lambda: cached(model, anchors, positives, negatives), model)
    for a, b in zip(got, expected, strict=True):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)
        assert a.abs().sum() > 0
    torch.manual_seed(5)
    value = cached(model, anchors, positives, negatives)
    torch.manual_seed(5)
    assert torch.allclose(value.detach(), plain().detach())
    with torch.no_grad():
        model.eval()
        assert torch.allclose(cached(model, anchors, positives, negatives), plain())
