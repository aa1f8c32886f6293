"""Named public data sets: a registry, a local mirror, and checksummed downloads.

Every data set the project uses by name (training corpora, analogy and word
similarity benchmarks) is described once here by a :class:`DatasetInfo`.
:func:`fetch` resolves a name to a file on disk:

1. the local mirror: ``<data_dir>/<folder>/<filename>``, where ``data_dir`` is
   the argument or the environment variable ``EMBEDFORGE_DATA_DIR`` (the layout
   of the project's ``../shared/data``);
2. otherwise the download cache (``EMBEDFORGE_CACHE_DIR``, or
   ``pooch.os_cache("embedforge")``), downloading from the original public
   source with :func:`pooch.retrieve` and checking the file's hash first.

Data sets with no public download that we can verify byte for byte
(``url=None``) are mirror-only; asking for one that is not in the mirror raises
:class:`~embedforge.errors.DatasetError` saying where to put it.

:func:`resolve_path` is the one place that turns a user's "data set name or
path" argument into a path: readers and evaluators call it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from embedforge.errors import DatasetError, InvalidParameterError

__all__ = [
    "DATA_DIR_ENV",
    "CACHE_DIR_ENV",
    "DatasetInfo",
    "dataset_info",
    "fetch",
    "list_datasets",
    "resolve_path",
]

logger = logging.getLogger(__name__)

#: Environment variable naming the local mirror directory (``<folder>/<filename>`` inside).
DATA_DIR_ENV = "EMBEDFORGE_DATA_DIR"
#: Environment variable overriding the download cache directory.
CACHE_DIR_ENV = "EMBEDFORGE_CACHE_DIR"


@dataclass(frozen=True)
class DatasetInfo:
    """One registered data set.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"google_analogy"``.
    description : str
        One line saying what the data is.
    folder : str
        Folder of the data set inside the mirror and the download cache.
    filename : str
        The file :func:`fetch` returns, inside ``folder``. For a zip download it
        is the archive member that is extracted.
    url : str or None
        Original public download URL; ``None`` for a mirror-only data set.
    known_hash : str or None
        Hash of the file at ``url`` in pooch's ``"<algorithm>:<hex>"`` form
        (the archive for a zip download). For mirror-only data sets, the
        SHA-256 of the mirror file, for reference.
    archive : str or None
        ``"zip"`` when ``url`` is a zip archive that contains ``filename``.
    max_lines : int or None
        When set, only the first ``max_lines`` lines of the file belong to the
        data set (corpus readers take it as their own ``max_lines``).
    directory : bool
        When True the data set is the whole ``folder`` (e.g. BEIR's
        ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/``): :func:`fetch`
        checks that ``filename`` is in it and returns the folder.
    source : str
        Where the bytes come from (repository, commit, package).
    license : str
        License of the data.
    citation : str
        The reference to cite.
    """

    name: str
    description: str
    folder: str
    filename: str
    url: str | None
    known_hash: str | None
    source: str
    license: str
    citation: str
    archive: str | None = None
    max_lines: int | None = None
    directory: bool = False

    @property
    def files(self) -> tuple[str, ...]:
        """Paths of the data set's files relative to the mirror root, e.g. ``("men/MEN_...",)``."""
        return (f"{self.folder}/{self.filename}",)

    @property
    def mirror_only(self) -> bool:
        """True when the data set has no registered download and must come from the mirror."""
        return self.url is None


_GENSIM_RAW = "https://raw.githubusercontent.com/piskvorky/gensim/4.4.0/gensim/test/test_data/"
_SIMCROSS_RAW = (
    "https://raw.githubusercontent.com/mrmechko/simcross/ffc5c7598185be00260d81fd71274db32e6bceda/"
)
_TEXT8_CITATION = (
    'Matt Mahoney, "About the Test Data", Large Text Compression Benchmark, '
    "http://mattmahoney.net/dc/textdata.html; used by T. Mikolov, K. Chen, G. Corrado, J. Dean, "
    '"Efficient Estimation of Word Representations in Vector Space", ICLR Workshop 2013, '
    "arXiv:1301.3781"
)
_WIKIPEDIA_LICENSE = "CC BY-SA 3.0 / GFDL (Wikipedia text)"

_REGISTRY: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            name="text8",
            description="text8: first 10^8 characters of cleaned English Wikipedia (2006), "
            "about 17.0M tokens, one line",
            folder="text8",
            filename="text8",
            url="http://mattmahoney.net/dc/text8.zip",
            # SHA-1 of text8.zip (31,344,016 bytes) as published in dmlc/gluon-nlp,
            # src/gluonnlp/data/corpora/large_text_compression_benchmark.py, class Text8,
            # archive_file = ('text8.zip', '6c70299b93b7e1f927b42cd8f6ac1a31547c7a2e')
            # (commit 9864718a1eddfa03cec10ad68e9074215280debe; earlier versions of the same
            # class downloaded it from http://mattmahoney.net/dc/ with this hash). The same
            # class gives SHA-1 0dc3edebc970dcc96137e7deda4d9995af9d93de for the unzipped
            # ``text8``. No SHA-256 is published; pooch accepts "sha1:".
            known_hash="sha1:6c70299b93b7e1f927b42cd8f6ac1a31547c7a2e",
            archive="zip",
            source="http://mattmahoney.net/dc/text8.zip (Matt Mahoney)",
            license=_WIKIPEDIA_LICENSE,
            citation=_TEXT8_CITATION,
        ),
        DatasetInfo(
            name="text8_prefix",
            description="first 6,877,824 characters of text8 (1,171,946 tokens); NOT the full corpus",
            folder="text8_prefix",
            filename="text8_prefix",
            url=None,
            known_hash="sha256:b960762ff97afc69649266c8964ca6d04f3465dc11b57bfe55a1234dbd9127b6",
            source="prefix of text8 inflated from the truncated text8.gz in GitHub "
            "celticspp/word2vec at commit 7a2bd19188ff368cd954ae75e7e2ff90d350cdb2",
            license=_WIKIPEDIA_LICENSE,
            citation=_TEXT8_CITATION,
        ),
        DatasetInfo(
            name="enwiki2015",
            description="9,233 English Wikipedia articles (2015) cleaned by text8's rules, "
            "one article per line, 25.0M tokens",
            folder="enwiki2015_text8style",
            filename="enwiki2015_25M.txt.gz",
            url=None,
            known_hash="sha256:f91304c43f9857cd0cc51939b2820d9ef3afba632e546f37eac0673d3c824652",
            source="WikiExtractor output in GitHub jason-feng/wikiVisual at commit "
            "1c0fac92f29f17c1603bfffbe864e0dfdff66897 (text/AA..AD), normalised like text8",
            license=_WIKIPEDIA_LICENSE,
            citation="Wikipedia contributors, English Wikipedia (2015 revisions)",
        ),
        DatasetInfo(
            name="enwiki2015_text8size",
            description="the first 6,381 lines of enwiki2015: 17.0M tokens, the size of text8",
            folder="enwiki2015_text8style",
            filename="enwiki2015_25M.txt.gz",
            url=None,
            known_hash="sha256:f91304c43f9857cd0cc51939b2820d9ef3afba632e546f37eac0673d3c824652",
            max_lines=6381,
            source="WikiExtractor output in GitHub jason-feng/wikiVisual at commit "
            "1c0fac92f29f17c1603bfffbe864e0dfdff66897 (text/AA..AD), normalised like text8",
            license=_WIKIPEDIA_LICENSE,
            citation="Wikipedia contributors, English Wikipedia (2015 revisions)",
        ),
        DatasetInfo(
            name="google_analogy",
            description="Google word analogy questions: 19,544 questions in 14 sections "
            "(5 semantic, 9 syntactic)",
            folder="google_analogy",
            filename="questions-words.txt",
            url=_GENSIM_RAW + "questions-words.txt",
            known_hash="sha256:8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
            source="word2vec release (Google); copy in gensim 4.4.0 "
            "gensim/test/test_data/questions-words.txt",
            license="Apache-2.0",
            citation="T. Mikolov, K. Chen, G. Corrado, J. Dean, "
            '"Efficient Estimation of Word Representations in Vector Space", '
            "ICLR Workshop 2013, arXiv:1301.3781",
        ),
        DatasetInfo(
            name="wordsim353",
            description="WordSim-353 (combined): 353 word pairs with relatedness scores 0-10",
            folder="wordsim353",
            filename="wordsim353.tsv",
            url=_GENSIM_RAW + "wordsim353.tsv",
            known_hash="sha256:f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d",
            source="gensim 4.4.0 gensim/test/test_data/wordsim353.tsv",
            license="none stated; distributed freely for research by the authors",
            citation="L. Finkelstein, E. Gabrilovich, Y. Matias, E. Rivlin, Z. Solan, G. Wolfman, "
            'E. Ruppin, "Placing Search in Context: The Concept Revisited", ACM TOIS 20(1), 2002',
        ),
        DatasetInfo(
            name="simlex999",
            description="SimLex-999: 999 word pairs with similarity scores 0-10 "
            "(gensim's 3-column file)",
            folder="simlex999",
            filename="simlex999.txt",
            url=_GENSIM_RAW + "simlex999.txt",
            known_hash="sha256:d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d",
            source="gensim 4.4.0 gensim/test/test_data/simlex999.txt (from the original "
            "SimLex-999.txt release)",
            license="none stated; distributed freely for research by the authors",
            citation='F. Hill, R. Reichart, A. Korhonen, "SimLex-999: Evaluating Semantic Models '
            'with (Genuine) Similarity Estimation", Computational Linguistics 41(4), 2015',
        ),
        DatasetInfo(
            name="men",
            description="MEN relatedness, natural word forms: 3,000 pairs with scores 0-50",
            folder="men",
            filename="MEN_dataset_natural_form_full",
            # This copy carries a header line ``word1 word2 score`` that the authors'
            # release lacks; the hash is of this copy.
            url=_SIMCROSS_RAW + "MEN/MEN_dataset_natural_form_full",
            known_hash="sha256:87a5b7229e6cf32426063da921e83031b9efeab3101d4413eaa3f44fcbce3a45",
            source="MEN release (Bruni et al.); copy in GitHub mrmechko/simcross at commit "
            "ffc5c7598185be00260d81fd71274db32e6bceda, MEN/MEN_dataset_natural_form_full",
            license="CC BY 2.0",
            citation='E. Bruni, N. K. Tran, M. Baroni, "Multimodal Distributional Semantics", '
            "JAIR 49:1-47, 2014",
        ),
        DatasetInfo(
            name="scifact",
            description="SciFact in BEIR layout (directory): 5,183 abstracts, 1,109 claims, "
            "qrels for 300 test and 809 train queries",
            folder="scifact",
            filename="corpus.jsonl",
            url=None,
            known_hash="sha256:d289bf5d711d1d6b0c9fba52b90e45a76e0b0e9f173fd3ff49cd098588de2581",
            source="queries and qrels: BEIR's files (GitHub Kirloxious/CSI4107_Assignment2 at "
            "640c17fd, moorateeahtashil/Information-Retrieval at 00b74e83); corpus.jsonl rebuilt "
            "from the allenai SciFact corpus (not byte-identical to BEIR's)",
            license="CC BY-NC 2.0",
            citation='D. Wadden et al., "Fact or Fiction: Verifying Scientific Claims", EMNLP '
            '2020; N. Thakur et al., "BEIR: A Heterogeneous Benchmark for Zero-shot Evaluation '
            'of Information Retrieval Models", NeurIPS 2021 Datasets and Benchmarks',
            directory=True,
        ),
        DatasetInfo(
            name="stsb",
            description="STS Benchmark (directory): 5,749 / 1,500 / 1,379 train / dev / test "
            "sentence pairs scored 0-5",
            folder="stsb",
            filename="sts-test.csv",
            url=None,
            known_hash="sha256:affe45928a66ee5a708531233c95b7dacbbdc57f974f002a3d32ea0180cf816a",
            source="the STSbenchmark release; copy in GitHub "
            "zhangzhenhu/Semantic-Texual-Similarity-Toolkits at commit "
            "c55a72f51bd15a8bd75114247c06984b432050f9, data/stsbenchmark/",
            license="CC BY-SA 4.0 (scores); sentences keep their sources' licenses",
            citation='D. Cer, M. Diab, E. Agirre, I. Lopez-Gazpio, L. Specia, "SemEval-2017 '
            "Task 1: Semantic Textual Similarity Multilingual and Crosslingual Focused "
            'Evaluation", SemEval 2017',
            directory=True,
        ),
        DatasetInfo(
            name="lee_corpus",
            description="Lee news corpus (directory): 300 background documents, 50 test "
            "documents and their 50x50 human similarity matrix",
            folder="lee_corpus",
            filename="similarities0-1.txt",
            url=None,
            known_hash="sha256:23762bc6b728897144dda3d324a2c032dc1e059e1009806226d64b6dd123ed79",
            source="gensim 4.4.0 gensim/test/test_data/ (lee_background.cor, lee.cor, "
            "similarities0-1.txt)",
            license="not stated in the package data",
            citation='M. D. Lee, B. Pincombe, M. Welsh, "An Empirical Evaluation of Models of '
            'Text Document Similarity", Proc. 27th Annual Conference of the Cognitive Science '
            "Society, 2005",
            directory=True,
        ),
        DatasetInfo(
            name="mnist_test",
            description="MNIST test set (directory): 10,000 handwritten digits, 28x28 uint8, IDX "
            "files (the training images are not in the mirror)",
            folder="mnist_test",
            filename="t10k-images-idx3-ubyte.gz",
            url=None,
            known_hash="sha256:8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            source="GitHub r007-1/m5Nph2Ef at commit 05e5ff61eeaaad048b346617de8bf1c1b1712c97, "
            "MNIST_data/ (official MD5s; read with embedforge.neural.images.read_mnist)",
            license="none in the source; commonly listed as CC BY-SA 3.0 (Y. LeCun, C. Cortes)",
            citation='Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-Based Learning Applied '
            'to Document Recognition", Proc. IEEE 86(11), 1998',
            directory=True,
        ),
        DatasetInfo(
            name="cora",
            description="Cora citation graph (directory): 2,708 papers, 5,278 undirected links, "
            "7 classes, with the Planetoid split (140 / 500 / 1,000)",
            folder="cora",
            filename="planetoid/ind.cora.graph",
            url=None,
            known_hash="sha256:58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
            source="GitHub kimiyoung/planetoid at commit af6abf468a772cc055bec88c52e4d6f51b7c37e3, "
            "data/ind.cora.* (read with embedforge.graph.read_cora)",
            license="none stated for the data (LINQS research release); Planetoid code MIT",
            citation='Z. Yang, W. Cohen, R. Salakhutdinov, "Revisiting Semi-Supervised Learning '
            'with Graph Embeddings", ICML 2016; P. Sen et al., "Collective Classification in '
            'Network Data", AI Magazine 2008',
            directory=True,
        ),
        DatasetInfo(
            name="blogcatalog",
            description="BlogCatalog social graph (directory): 10,312 bloggers, 333,983 "
            "undirected friendships, 39 multi-label interest groups",
            folder="blogcatalog",
            filename="blogcatalog.edgelist.gz",
            url=None,
            known_hash="sha256:ae3356897b0b874c93d30b1b9362d7e5f9156613a36435c852ef089993d0a46c",
            source="GitHub phanein/deepwalk at commit 6e6dff245e4692e9bea47e9017c1034e51afbf29, "
            "example_graphs/blogcatalog.mat, written as 0-based edge and label lists "
            "(read with embedforge.graph.read_blogcatalog)",
            license="none stated (distributed by Lei Tang for research use)",
            citation='L. Tang, H. Liu, "Relational Learning via Latent Social Dimensions", '
            "KDD 2009",
            directory=True,
        ),
        DatasetInfo(
            name="movielens_100k",
            description="MovieLens 100K (directory): 100,000 ratings 1-5 by 943 users of 1,682 "
            "movies, with the ua/ub and u1..u5 splits (read with "
            "embedforge.recommend.read_interactions)",
            folder="movielens_100k",
            filename="u.data",
            url=None,  # mirror only: the licence forbids redistribution
            known_hash="sha256:06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
            source="GroupLens ml-100k folder, via GitHub Karan-Malik/RestrictedBoltzmannMachine "
            "at commit 2d918d569643ff7c0846eaf355c7e5ccb7afd5ad, ml-100k/",
            license="GroupLens research-use terms: no redistribution without permission",
            citation='F. M. Harper, J. A. Konstan, "The MovieLens Datasets: History and Context", '
            "ACM TiiS 5(4), 2015",
            directory=True,
        ),
        DatasetInfo(
            name="weat",
            description="WEAT word sets (JSON): the 31 target and attribute lists of the ten "
            "tests of Caliskan et al. 2017, 429 words",
            folder="weat",
            filename="WEAT.json",
            url="https://raw.githubusercontent.com/dccuchile/wefe/"
            "1998132a3e809481a7456d952f7473d191990946/wefe/datasets/data/WEAT.json",
            known_hash="sha256:1a4a448a1825b29c67a7ebb7733343084b015f5b8ed720b2d9e193840a3d49a1",
            source="GitHub dccuchile/wefe at commit 1998132a3e809481a7456d952f7473d191990946, "
            "wefe/datasets/data/WEAT.json (also in the PyPI package wefe)",
            license="MIT (WEFE repository); word lists from the cited IAT literature",
            citation='A. Caliskan, J. J. Bryson, A. Narayanan, "Semantics derived automatically '
            'from language corpora contain human-like biases", Science 356(6334), 2017',
        ),
    )
}


def list_datasets() -> list[DatasetInfo]:
    """Return every registered data set, in registry order.

    Returns
    -------
    list of DatasetInfo
        Name, description, files, source, URL and hash, license and citation of
        each data set.
    """
    return list(_REGISTRY.values())


def dataset_info(name: str) -> DatasetInfo:
    """Return the registry entry of the data set ``name``.

    Raises
    ------
    InvalidParameterError
        If ``name`` is not registered; the message lists the registered names.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise InvalidParameterError(
            f"unknown data set {name!r}; registered data sets: {', '.join(sorted(_REGISTRY))}"
        ) from None


def _mirror_root(data_dir: str | os.PathLike[str] | None) -> Path | None:
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else None


def _cache_root() -> Path:
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env)
    import pooch

    return Path(pooch.os_cache("embedforge"))


def fetch(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> Path:
    """Return the path of a registered data set's file, downloading it if needed.

    Parameters
    ----------
    name : str
        A registered name (see :func:`list_datasets`).
    data_dir : str or path-like, optional
        Local mirror directory holding ``<folder>/<filename>``. Defaults to the
        environment variable ``EMBEDFORGE_DATA_DIR``.
    progress : bool, default True
        Show a download progress bar (only when stderr is a terminal).

    Returns
    -------
    pathlib.Path
        The mirror file (the folder for a ``directory`` data set) if present,
        otherwise the file in the download cache
        (``EMBEDFORGE_CACHE_DIR`` or ``pooch.os_cache("embedforge")``), extracted
        from its archive when the download is a zip. For a data set with
        ``max_lines`` set, only that many leading lines of the file belong to it
        (see :func:`dataset_info`).

    Raises
    ------
    InvalidParameterError
        If ``name`` is not registered.
    DatasetError
        If a mirror-only data set is not in the mirror, the download fails, or
        the downloaded file does not match its registered hash (nothing is left
        in the cache in that case).

    Notes
    -----
    Mirror files are trusted and not hashed (the corpora are tens of MB);
    downloads are always verified, and a cached file is re-verified by pooch on
    each call before it is returned.
    """
    info = dataset_info(name)
    root = _mirror_root(data_dir)
    if root is not None:
        candidate = root / info.folder / info.filename
        if candidate.is_file():
            logger.debug("data set %r found in the mirror: %s", name, candidate)
            return candidate.parent if info.directory else candidate
    if info.url is None:
        where = (
            f"looked for {str(root / info.folder / info.filename)!r}"
            if root is not None
            else f"neither data_dir nor {DATA_DIR_ENV} is set"
        )
        raise DatasetError(
            f"data set {name!r} has no public download and must come from a local mirror "
            f"({where}): put the folder '{info.folder}/' containing '{info.filename}' in a "
            f"directory and set {DATA_DIR_ENV} to that directory (or pass data_dir=...); "
            f"the project's copy is in ../shared/data"
        )
    return _download(info, progress=progress)


_KINDS = {"file": "file", "directory": "directory", "any": "file or directory"}


def resolve_path(
    name_or_path: str | os.PathLike[str],
    kind: str = "any",
    *,
    what: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> Path:
    """The path a "data set name or path" argument stands for.

    An existing file or directory is used as it is; otherwise a str that is a
    registered data set name is fetched with :func:`fetch` (local mirror, else
    the verified download cache).

    Parameters
    ----------
    name_or_path : str or path-like
        A path, or a registered name (see :func:`list_datasets`).
    kind : {"any", "file", "directory"}, default "any"
        What the caller reads.  An existing path or a data set of the other
        kind is refused.
    what : str, optional
        How messages call the expected input (e.g. ``"analogy question
        file"``); defaults to ``kind``.
    data_dir : str or path-like, optional
        Local mirror directory, passed to :func:`fetch`.
    progress : bool, default True
        Download progress bar, passed to :func:`fetch`.

    Returns
    -------
    pathlib.Path
        The existing path, or the data set's file (its folder for a
        directory data set).

    Raises
    ------
    InvalidParameterError
        If ``name_or_path`` is not a str or path-like, or ``kind`` is unknown.
    DatasetError
        If it is neither an existing path of the right kind nor a registered
        data set of that kind (the message lists the registered names of that
        kind and says what to pass), or the data set cannot be fetched.
    """
    if kind not in _KINDS:
        raise InvalidParameterError(
            f"kind must be one of {', '.join(map(repr, _KINDS))}; got {kind!r}"
        )
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise InvalidParameterError(
            f"expected a path or a registered data set name (str); got "
            f"{type(name_or_path).__name__} {name_or_path!r:.60}"
        )
    expected = what or _KINDS[kind]
    path = Path(name_or_path)
    info = _REGISTRY.get(name_or_path) if isinstance(name_or_path, str) else None
    if path.exists():
        problem = _wrong_kind(path.is_dir(), kind)
        if problem is None:
            return path
    elif info is not None:
        problem = _wrong_kind(info.directory, kind)
        if problem is None:
            return fetch(info.name, data_dir=data_dir, progress=progress)
        problem = f"data set {info.name!r} is {problem.removeprefix('it is ')}"
    else:
        problem = None
    names = [i.name for i in _REGISTRY.values() if _wrong_kind(i.directory, kind) is None]
    raise DatasetError(
        f"{str(name_or_path)!r} is neither an existing {expected} nor a registered data set"
        + (f" ({problem})" if problem else "")
        + f"; pass the path of an existing {expected} or one of the registered names: "
        + ", ".join(names)
    )


def _wrong_kind(is_directory: bool, kind: str) -> str | None:
    """What is wrong with a file / directory when ``kind`` is wanted, or None."""
    if kind == "file" and is_directory:
        return "it is a directory"
    if kind == "directory" and not is_directory:
        return "it is a file"
    return None


def _download(info: DatasetInfo, progress: bool) -> Path:
    import pooch

    folder = _cache_root() / info.folder
    target = folder / info.filename
    archive_name = Path(info.url or "").name if info.archive else info.filename
    processor = None
    if info.archive == "zip":
        # extract_dir "." puts the member next to the archive: <cache>/<folder>/<filename>.
        processor = pooch.Unzip(members=[info.filename], extract_dir=".")
    show_bar = progress and sys.stderr.isatty()
    try:
        pooch.retrieve(
            info.url,
            known_hash=info.known_hash,
            fname=archive_name,
            path=folder,
            processor=processor,
            progressbar=show_bar,
        )
    except ValueError as exc:  # pooch's hash mismatch
        # pooch deletes the new download; drop a stale cached copy that failed too.
        _remove_if_mismatched(folder / archive_name, info.known_hash)
        raise DatasetError(
            f"the download of data set {info.name!r} from {info.url} does not match its "
            f"registered hash {info.known_hash}; nothing was kept. The file at the source "
            f"may have changed; use a local mirror ({DATA_DIR_ENV}) instead. ({exc})"
        ) from exc
    except OSError as exc:  # requests' errors derive from OSError
        raise DatasetError(
            f"could not download data set {info.name!r} from {info.url}: {exc}. "
            f"Check the network, or put '{info.folder}/{info.filename}' in a local mirror "
            f"directory and set {DATA_DIR_ENV}"
        ) from exc
    if not target.is_file():
        raise DatasetError(
            f"the download of data set {info.name!r} from {info.url} did not contain "
            f"{info.filename!r}"
        )
    return target


def _remove_if_mismatched(path: Path, known_hash: str | None) -> None:
    import pooch

    if known_hash is None or not path.is_file():
        return
    algorithm, _, expected = known_hash.rpartition(":")
    if pooch.file_hash(str(path), alg=algorithm or "sha256") != expected.lower():
        with contextlib.suppress(OSError):
            path.unlink()
