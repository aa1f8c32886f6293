"""The word tokeniser shared by the document encoders.

Our word vectors are trained on text8-style text (lower case, letters ``a-z``
only, digits spelt out), so the default splits a document into runs of
``[a-z]`` after lower-casing: ``"The U.S. in 2001"`` becomes
``["the", "u", "s", "in"]``.

Unicode: text is not normalised.  The composed and decomposed (NFC and NFD)
spellings of a word are different strings and may give different tokens:
``"caf\u00e9"`` and ``"cafe\u0301"`` give ``["caf"]`` and ``["cafe"]`` under the
default pattern, ``["caf\u00e9"]`` and ``["cafe"]`` under ``\\w+`` (Python's ``\\w``
matches no combining mark).  scikit-learn's ``CountVectorizer``
(``strip_accents=None``), gensim and fastText do not normalise either.  Text whose
sources mix the two forms should be normalised once, before training and
encoding alike: ``unicodedata.normalize("NFC", text)``.  Non-ASCII spaces (NBSP
U+00A0, U+2009, U+3000) and the zero-width space U+200B are not word
characters, so they separate tokens under the default and ``\\w+`` patterns.
"""

from __future__ import annotations

import functools
import re

from ..errors import InvalidParameterError

__all__ = ["DEFAULT_TOKEN_PATTERN", "compile_token_pattern", "tokenize"]

#: Tokens of text8-style corpora: runs of lower-case ASCII letters.
DEFAULT_TOKEN_PATTERN = r"[a-z]+"


@functools.lru_cache(maxsize=32)
def compile_token_pattern(token_pattern: str) -> re.Pattern[str]:
    """Compile ``token_pattern`` once; the whole match (or its only group) is a token.

    Raises
    ------
    InvalidParameterError
        If it is not a str, is not a valid regular expression, or has more than
        one capturing group.
    """
    if not isinstance(token_pattern, str) or not token_pattern:
        raise InvalidParameterError(
            f"token_pattern must be a non-empty regular expression string such as {DEFAULT_TOKEN_PATTERN!r}; "
            f"got {token_pattern!r}"
        )
    try:
        compiled = re.compile(token_pattern)
    except re.error as exc:
        raise InvalidParameterError(
            f"token_pattern {token_pattern!r} is not a valid regular expression ({exc})"
        ) from None
    if compiled.groups > 1:
        raise InvalidParameterError(
            f"token_pattern {token_pattern!r} has {compiled.groups} capturing groups; use at most "
            "one (the token), and (?:...) for the others"
        )
    return compiled


def tokenize(
    text: str, token_pattern: str = DEFAULT_TOKEN_PATTERN, lowercase: bool = True
) -> list[str]:
    """Split ``text`` into tokens: every match of ``token_pattern``, after lower-casing.

    Parameters
    ----------
    text : str
        The document.
    token_pattern : str, default ``"[a-z]+"``
        Regular expression of one token; when it has one capturing group the
        group is the token (as in scikit-learn's ``token_pattern``).
    lowercase : bool, default True
        Lower-case ``text`` before matching.

    Returns
    -------
    list of str
        The tokens in order (not Unicode-normalised; see the module notes).

    Raises
    ------
    InvalidParameterError
        If ``token_pattern`` is invalid (see :func:`compile_token_pattern`).

    Examples
    --------
    >>> tokenize("The U.S. economy grew 3% in 2001.")
    ['the', 'u', 's', 'economy', 'grew', 'in']
    """
    pattern = compile_token_pattern(token_pattern)
    if lowercase:
        text = text.lower()
    return pattern.findall(text)
