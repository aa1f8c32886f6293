"""A small synthetic interaction set with planted taste groups (own-made, seeded; no real data).

60 users and 45 items in 3 groups of 20 users / 15 items: each user has 8
items of their own group and 1 of another group, a weight 1-5 and a time.
A good recommender ranks a user's unseen own-group items first.
"""

from __future__ import annotations

import numpy as np

from embedforge.recommend import Interactions

N_GROUPS, USERS_PER_GROUP, ITEMS_PER_GROUP = 3, 20, 15


def planted(seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    users, items, weights, times = [], [], [], []
    for g in range(N_GROUPS):
        own = np.arange(g * ITEMS_PER_GROUP, (g + 1) * ITEMS_PER_GROUP)
        others = np.setdiff1d(np.arange(N_GROUPS * ITEMS_PER_GROUP), own)
        for u in range(USERS_PER_GROUP):
            uid = f"u{g * USERS_PER_GROUP + u:02d}"
            chosen = [*rng.choice(own, 8, replace=False).tolist(), int(rng.choice(others))]
            for t, i in enumerate(chosen):
                users.append(uid)
                items.append(f"i{i:02d}")
                weights.append(float(rng.integers(1, 6)))
                times.append(1000 + 10 * t + int(rng.integers(0, 5)))
    return Interactions.from_arrays(users, items, weights, times)


def group_of_user(key: str) -> int:
    return int(key[1:]) // USERS_PER_GROUP


def group_of_item(key: str) -> int:
    return int(key[1:]) // ITEMS_PER_GROUP
