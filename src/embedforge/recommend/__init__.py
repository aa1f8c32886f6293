"""Recommendation embeddings: implicit-feedback interactions, BPR and ALS matrix factorisation.

Users and items are embedded in one space; a user's recommendations are the
items with the highest inner product.  :class:`Interactions` holds the data
(CSR, keys of any kind, readers, filters, splits); :class:`BPR` and
:class:`ALS` learn the vectors; :func:`embedforge.evaluate.evaluate_recommendations`
scores them.
"""

from ._interactions import Interactions, read_interactions, read_movielens_split
from ._models import ALS, BPR

__all__ = ["ALS", "BPR", "Interactions", "read_interactions", "read_movielens_split"]
