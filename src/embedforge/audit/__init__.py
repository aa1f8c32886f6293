"""Bias audit of word vectors: WEAT (Caliskan et al. 2017), direct bias and hard debiasing
(Bolukbasi et al. 2016).

- :func:`weat` runs one test on any word sets; :func:`run_weat_tests` runs the
  ten tests of Caliskan et al. (``weat1`` .. ``weat10``) on the WEAT lists of
  the ``weat`` data set (WEFE's ``WEAT.json``).
- :func:`bias_direction`, :func:`direct_bias`, :func:`hard_debias` and
  :func:`debias_report` (WEAT effect sizes and analogy / similarity quality
  before and after debiasing).
"""

from __future__ import annotations

from .debias import (
    DEFINITIONAL_PAIRS,
    EQUALIZE_PAIRS,
    GENDER_SPECIFIC,
    DebiasReport,
    bias_direction,
    debias_report,
    direct_bias,
    hard_debias,
)
from .weat import (
    CALISKAN_GLOVE_CC,
    WEAT_TESTS,
    WEATResult,
    WordSet,
    association,
    read_weat_word_sets,
    results_to_json,
    run_weat_tests,
    weat,
)

__all__ = [
    "CALISKAN_GLOVE_CC",
    "DEFINITIONAL_PAIRS",
    "EQUALIZE_PAIRS",
    "GENDER_SPECIFIC",
    "WEAT_TESTS",
    "DebiasReport",
    "WEATResult",
    "WordSet",
    "association",
    "bias_direction",
    "debias_report",
    "direct_bias",
    "hard_debias",
    "read_weat_word_sets",
    "results_to_json",
    "run_weat_tests",
    "weat",
]
