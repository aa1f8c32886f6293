"""Every reader survives damaged and hostile files: it raises an EmbedforgeError or returns a
consistent object, and never asks for memory the file cannot back.

Each reader starts from a small valid file (written here, or a copy of a frozen fixture in
``tests/data/saved_v1``; the fixtures themselves are never modified) and reads it again after
one to three mutations: bit flips, truncations, inserted and deleted bytes, binary integers
overwritten with huge or negative values, and decimal numbers (text headers, JSON fields,
``.npy`` shapes) replaced by huge ones.  The only exceptions allowed are EmbedforgeError
subclasses.  A reader that returns must return an object that answers a query.  Memory is
measured with ``tracemalloc`` (numpy reports its buffers to it): a lying header must not make
a reader allocate more than a fixed slack beyond a few times the file's size.

The examples are deterministic (``derandomize=True``): CI sees the same cases every run.
``EMBEDFORGE_FUZZ_EXAMPLES`` sets the examples per reader (``make fuzz`` sets many); the
counts tried per reader are printed at the end of the module (visible with ``pytest -s``).
"""

from __future__ import annotations

import bz2
import collections
import gzip
import json
import os
import shutil
import struct
import sys
import tempfile
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedforge as ef
from embedforge._io import MAX_CONFIG_BYTES
from embedforge.errors import EmbedforgeError
from embedforge.formats import FacebookModel, read_facebook_bin, read_word2vec

SAVED = Path(__file__).parent / "data" / "saved_v1"
EXAMPLES = int(os.environ.get("EMBEDFORGE_FUZZ_EXAMPLES", "20"))
# Peak traced allocation allowed beyond MEMORY_FACTOR times the bytes of the files read.
MEMORY_SLACK = 32 << 20
MEMORY_FACTOR = 8
TRIED: collections.Counter[str] = collections.Counter()

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------- mutations

HUGE = [-1, 0, 1, 2**31 - 1, 2**32 - 1, 2**62, 2**63 - 1, 99_999_999_999, 1 << 40]

position = st.integers(min_value=0, max_value=1 << 20)
mutation = st.one_of(
    st.tuples(st.just("flip"), position, st.integers(0, 7)),
    st.tuples(st.just("truncate"), position),
    st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=24)),
    st.tuples(st.just("delete"), position, st.integers(1, 64)),
    st.tuples(st.just("int"), position, st.sampled_from([1, 2, 4, 8]), st.sampled_from(HUGE)),
    st.tuples(st.just("number"), position, st.sampled_from(HUGE)),
)
mutations = st.lists(mutation, min_size=1, max_size=3)


def mutate(data: bytes, ops: list[tuple]) -> bytes:
    """Apply ``ops`` (from the ``mutations`` strategy) to ``data``."""
    out = bytearray(data)
    for op in ops:
        kind, pos = op[0], op[1] % (len(out) + 1)
        if kind == "flip" and out:
            out[pos % len(out)] ^= 1 << op[2]
        elif kind == "truncate":
            del out[pos:]
        elif kind == "insert":
            out[pos:pos] = op[2]
        elif kind == "delete":
            del out[pos : pos + op[2]]
        elif kind == "int":
            width, value = op[2], op[3]
            out[pos : pos + width] = (value % (1 << (8 * width))).to_bytes(width, "little")
        elif kind == "number":  # the next decimal number (wrapping around) becomes a huge one
            text = bytes(out)
            starts = [i for i in range(len(text)) if text[i : i + 1].isdigit()]
            if starts:
                start = next((i for i in starts if i >= pos), starts[0])
                while start > 0 and text[start - 1 : start].isdigit():
                    start -= 1
                end = start
                while end < len(text) and text[end : end + 1].isdigit():
                    end += 1
                out[start:end] = str(op[2]).encode()
    return bytes(out)


# ---------------------------------------------------------------------- the harness


def read_hostile(
    name: str,
    read: Callable[[], object],
    use: Callable[[object], None],
    size: int,
    slack: int = MEMORY_SLACK,
) -> None:
    """Run ``read`` and ``use`` on a mutated file: EmbedforgeError or a usable object, bounded."""
    TRIED[name] += 1
    tracemalloc.start()
    try:
        try:
            obj = read()
            # Damaged values (NaN, inf, signalling NaN) are data, not format errors: numpy's
            # warnings about computing with them are not the reader's failure.
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                use(obj)
        except EmbedforgeError:
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= slack + MEMORY_FACTOR * size, (
        f"{name}: reading a {size:,}-byte input allocated {peak:,} bytes at its peak"
    )


def check_embeddings(emb: object) -> None:
    assert isinstance(emb, ef.Embeddings)
    n = len(emb.keys)
    assert emb.vectors.ndim == 2 and emb.vectors.shape[0] == n and emb.vectors.dtype == np.float32
    assert len(set(emb.keys)) == n
    if emb.counts is not None:
        assert emb.counts.shape == (n,)
    if n > 1:
        emb.most_similar(emb.keys[0], k=1)
    if isinstance(emb, ef.FastTextVectors):
        emb.vector("qqzzunseen")


# ---------------------------------------------------------------------- word2vec, GloVe


def small_embeddings() -> ef.Embeddings:
    rng = np.random.default_rng(0)
    keys = ["the", "of", "and", "café", "naïve", "日本", "x", "yz"]
    return ef.Embeddings(keys, rng.standard_normal((len(keys), 5)).astype(np.float32))


W2V_SOURCES = {
    # name: (file name, write options, read options)
    "word2vec_text": ("v.txt", {}, {}),
    "word2vec_binary": ("v.bin", {"binary": True}, {"binary": True}),
    "glove_text": ("v.txt", {"write_header": False}, {"no_header": True}),
    "word2vec_text_gz": ("v.txt.gz", {}, {}),
    "word2vec_binary_gz": ("v.bin.gz", {"binary": True}, {"binary": True}),
    "glove_text_bz2": ("v.txt.bz2", {"write_header": False}, {"no_header": True}),
}


@pytest.fixture(scope="module")
def w2v_plain(tmp_path_factory) -> dict[str, bytes]:
    """The uncompressed bytes of each source file."""
    root = tmp_path_factory.mktemp("w2v")
    out = {}
    for name, (_, write, _) in W2V_SOURCES.items():
        path = root / f"{name}.plain"
        ef.formats.write_word2vec(small_embeddings(), path, **write)
        out[name] = path.read_bytes()
    return out


@pytest.mark.parametrize("name", sorted(W2V_SOURCES))
@FUZZ
@given(ops=mutations, mutate_compressed=st.booleans(), limit=st.sampled_from([None, 1, 3]))
def test_word2vec_readers_survive_mutations(w2v_plain, name, ops, mutate_compressed, limit):
    file_name, _, read_options = W2V_SOURCES[name]
    data = w2v_plain[name]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / file_name
        if file_name.endswith((".gz", ".bz2")):
            compress = (
                (lambda b: gzip.compress(b, mtime=0)) if file_name.endswith(".gz") else bz2.compress
            )
            raw = mutate(compress(data), ops) if mutate_compressed else compress(mutate(data, ops))
            size = len(data) * 4 + 4096  # decompressed size is what gets read
        else:
            raw = mutate(data, ops)
            size = len(raw)
        path.write_bytes(raw)
        read_hostile(
            name,
            lambda: read_word2vec(path, limit=limit, **read_options),
            check_embeddings,
            size,
        )


def test_word2vec_readers_refuse_lying_headers_without_allocating(tmp_path):
    """A 20-byte file whose header claims 99,999,999,999 rows (or dims) is a FormatError."""
    for header in (b"99999999999 2\n", b"2 99999999999\n"):
        for suffix, open_ in [("", open), (".gz", gzip.open)]:
            for binary in (False, True):
                path = tmp_path / f"lie{'.bin' if binary else '.txt'}{suffix}"
                body = b"the " + np.float32([0.1, 0.2]).tobytes() if binary else b"the 0.1 0.2\n"
                with open_(path, "wb") as fh:
                    fh.write(header + body)
                tracemalloc.start()
                try:
                    with pytest.raises(ef.errors.FormatError) as info:
                        read_word2vec(path, binary=binary)
                    peak = tracemalloc.get_traced_memory()[1]
                finally:
                    tracemalloc.stop()
                message = str(info.value)
                assert str(path) in message
                assert "header" in message and "99" in message.replace(",", "")
                assert peak < MEMORY_SLACK


# ---------------------------------------------------------------------- fastText .bin


def write_facebook_bin(path: Path, dim: int = 4, bucket: int = 6) -> None:
    """A tiny fastText 0.9 model file (the layout of ``FastText::saveModel``)."""
    words = ["</s>", "the", "of", "café"]
    rng = np.random.default_rng(1)
    parts = [struct.pack("<ii", 793712314, 12)]
    # dim ws epoch minCount neg wordNgrams loss(ns) model(sg) bucket minn maxn lrUpdateRate, t
    parts.append(struct.pack("<12i", dim, 5, 1, 1, 5, 1, 2, 2, bucket, 3, 6, 100))
    parts.append(struct.pack("<d", 1e-4))
    parts.append(struct.pack("<iiiqq", len(words), len(words), 0, 100, -1))
    for i, word in enumerate(words):
        parts.append(word.encode() + b"\0" + struct.pack("<qb", 40 - i, 0))
    for rows in (len(words) + bucket, len(words)):
        parts.append(struct.pack("<bqq", 0, rows, dim))
        parts.append(rng.standard_normal((rows, dim)).astype("<f4").tobytes())
    path.write_bytes(b"".join(parts))


def check_facebook(model: object) -> None:
    if isinstance(model, FacebookModel):
        assert len(model.words) == model.counts.shape[0]
        assert model.input.shape[1] == model.args["dim"] == model.output.shape[1]
        assert model.input.shape[0] >= len(model.words)
        return
    assert isinstance(model, ef.FastText)
    check_embeddings(model.wv)
    model.wv.vector("unseenword")


@pytest.fixture(scope="module")
def facebook_bin(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("fb") / "m.bin"
    write_facebook_bin(path)
    check_facebook(read_facebook_bin(path))
    check_facebook(ef.FastText.load_facebook(path))
    return path.read_bytes()


def test_fasttext_bin_lying_counts_are_refused_before_allocating(tmp_path):
    path = tmp_path / "m.bin"
    write_facebook_bin(path)
    data = path.read_bytes()
    dictionary = 8 + 12 * 4 + 8  # magic, version, 12 int32 arguments, t
    entries = sum(len(w.encode()) + 1 + 9 for w in ["</s>", "the", "of", "café"])
    input_rows = dictionary + 28 + entries + 1  # after the quantization flag
    cases = [
        (dictionary, struct.pack("<ii", 2**31 - 1, 2**31 - 1), r"declares 2,147,483,647 entries"),
        (input_rows, struct.pack("<q", 99_999_999_999), r"declares shape \(99,999,999,999, 4\)"),
    ]
    for offset, value, match in cases:
        path.write_bytes(data[:offset] + value + data[offset + len(value) :])
        tracemalloc.start()
        try:
            with pytest.raises(ef.errors.FormatError, match=match) as info:
                read_facebook_bin(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert str(path) in str(info.value) and "truncated or corrupt" in str(info.value)
        assert peak < MEMORY_SLACK


@pytest.mark.parametrize("reader", ["read_facebook_bin", "FastText.load_facebook"])
@FUZZ
@given(ops=mutations)
def test_fasttext_bin_readers_survive_mutations(facebook_bin, reader, ops):
    read = read_facebook_bin if reader == "read_facebook_bin" else ef.FastText.load_facebook
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.bin"
        raw = mutate(facebook_bin, ops)
        path.write_bytes(raw)
        read_hostile(f"fasttext_bin:{reader}", lambda: read(path), check_facebook, len(raw))


# ---------------------------------------------------------------------- native directories


def sample(dim: int = 8) -> np.ndarray:
    """Four query vectors of width ``dim``; 8 wide when a damaged file declares a huge width
    (the object must then refuse them with an InvalidParameterError)."""
    dim = dim if 0 < dim <= 4096 else 8
    return np.random.default_rng(3).standard_normal((4, dim)).astype(np.float32)


def use_saved(obj: object) -> None:
    """Ask a loaded object the question it exists to answer."""
    texts = ["anarchism originated as a term", "the cat"]
    if isinstance(obj, ef.Embeddings):
        check_embeddings(obj)
    elif isinstance(obj, ef.Collection):
        try:
            obj.count  # noqa: B018 - reads the store
            if obj.count:
                query = texts if isinstance(obj.encoder, ef.TfIdf) else sample(obj.dim)
                results = obj.search(query, k=2)
                ids = [i for i in np.asarray(results.ids).ravel().tolist() if i]
                obj.get(ids[:1])
        finally:
            obj.close()
    elif hasattr(obj, "wv"):
        check_embeddings(obj.wv)
    elif isinstance(obj, ef.VectorIndex):
        _, ids = obj.search(sample(obj.dim), k=3)
        assert ids.shape == (4, 3)
        if obj.ntotal:  # an index that says it holds vectors finds some
            assert (np.asarray(ids) != -1).any()
    elif isinstance(obj, ef.Cooccurrence):
        n = len(obj.vocabulary_)
        assert obj.matrix_.shape == (n, n)
        obj.matrix_.sum()
    elif isinstance(obj, (ef.ScalarQuantizer, ef.BinaryQuantizer)):
        obj.decode(obj.encode(sample(obj.dim_)))
    elif isinstance(obj, ef.PCAReducer):
        obj.transform(sample(obj.components_.shape[1]))
    else:  # TfIdf, LSA, RandomProjection, MeanEncoder, SIFEncoder
        obj.encode(texts)


NATIVE = sorted(p.name for p in SAVED.iterdir() if p.is_dir())


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.stat().st_size)


@pytest.mark.parametrize("name", [n for n in NATIVE if not n.startswith("collection")])
@FUZZ
@given(ops=mutations, which=st.integers(min_value=0, max_value=1 << 16))
def test_saved_directories_survive_mutations(name, ops, which):
    fuzz_saved_directory(name, ops, which)


# Opening a collection whose index is damaged rebuilds it (about 0.5 s): a quarter the examples.
@pytest.mark.parametrize("name", [n for n in NATIVE if n.startswith("collection")])
@settings(FUZZ, max_examples=max(5, EXAMPLES // 4))
@given(ops=mutations, which=st.integers(min_value=0, max_value=1 << 16))
def test_saved_collections_survive_mutations(name, ops, which):
    fuzz_saved_directory(name, ops, which)


WARMED: set[str] = set()


def fuzz_saved_directory(name: str, ops: list[tuple], which: int) -> None:
    if name not in WARMED:  # first use: imports and caches that are not the reader's memory
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(SAVED / name, Path(tmp) / name)
            use_saved(ef.load(Path(tmp) / name))
        WARMED.add(name)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / name
        shutil.copytree(SAVED / name, root)
        files = _files(root)
        target = files[which % len(files)]
        target.write_bytes(mutate(target.read_bytes(), ops))
        size = sum(p.stat().st_size for p in _files(root))
        # A collection whose index is damaged rebuilds it from SQLite: real work, more memory.
        slack = 8 * MEMORY_SLACK if name.startswith("collection") else MEMORY_SLACK
        read_hostile(f"saved:{name}", lambda: ef.load(root), use_saved, size, slack)


def test_every_fixture_kind_is_fuzzed():
    assert len(NATIVE) >= 17 and "collection_vectors" in NATIVE and "vector_index" in NATIVE


# ---------------------------------------------------------------------- targeted hostile files


def _npy_with_header(shape: tuple, descr: str = "<f4", payload: bytes = b"\0" * 8) -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


@pytest.mark.parametrize("mmap", [False, True])
def test_npy_header_lying_about_its_shape_is_refused_before_allocating(tmp_path, mmap):
    src = tmp_path / "e"
    shutil.copytree(SAVED / "embeddings", src)
    (src / "vectors.npy").write_bytes(_npy_with_header((99_999_999_999, 300)))
    tracemalloc.start()
    try:
        with pytest.raises(ef.errors.FormatError) as info:
            ef.Embeddings.load(src, mmap=mmap)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert "vectors.npy" in message and "'shape'" in message and "(99999999999, 300)" in message
    assert "holds 8 bytes" in message and "save it again" in message
    assert peak < MEMORY_SLACK


def test_npy_with_object_dtype_is_refused(tmp_path):
    src = tmp_path / "e"
    shutil.copytree(SAVED / "embeddings", src)
    (src / "vectors.npy").write_bytes(_npy_with_header((1,), descr="|O"))
    with pytest.raises(ef.errors.FormatError, match=r"vectors.npy.*'descr' declares dtype object"):
        ef.Embeddings.load(src)


def test_config_json_nesting_and_size_are_bounded(tmp_path):
    src = tmp_path / "e"
    shutil.copytree(SAVED / "embeddings", src)
    (src / "config.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(ef.errors.FormatError, match=r"config.json: arrays and objects nest"):
        ef.Embeddings.load(src)
    (src / "config.json").write_bytes(b" " * (MAX_CONFIG_BYTES + 1))
    with pytest.raises(ef.errors.FormatError, match=r"config.json: holds 16,777,217 bytes"):
        ef.Embeddings.load(src)
    config = json.loads((SAVED / "embeddings" / "config.json").read_text(encoding="utf-8"))
    config["padding"] = [[[["deep but fine"]]]]
    (src / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert len(ef.Embeddings.load(src)) == len(ef.Embeddings.load(SAVED / "embeddings"))


def test_npz_members_lying_about_their_size_are_refused_before_allocating(tmp_path):
    import io
    import zipfile

    src = tmp_path / "rp"
    shutil.copytree(SAVED / "random_projection", src)
    path = src / "components.npz"
    # A member whose .npy header claims 2**40 float32 values and holds 8 bytes.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.npy", _npy_with_header((1 << 40,)))
    with pytest.raises(ef.errors.FormatError, match=r"components.npz\[data.npy\]: not a complete"):
        ef.load(src)
    # A member whose zip entry claims 2 GiB uncompressed from a few compressed bytes (a lie
    # DEFLATE cannot back: its ratio is at most about 1032:1).
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.npy", _npy_with_header((2,)))
    raw = bytearray(buffer.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.index(signature) + offset
        raw[at : at + 4] = struct.pack("<I", 0x7FFFFFF0)
    path.write_bytes(bytes(raw))
    tracemalloc.start()
    try:
        with pytest.raises(ef.errors.FormatError, match=r"declares 2,147,483,632 bytes uncompr"):
            ef.load(src)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_SLACK


def test_collection_database_that_is_not_sqlite_is_a_format_error(tmp_path):
    src = tmp_path / "c"
    shutil.copytree(SAVED / "collection_vectors", src)
    (src / "collection.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ef.errors.FormatError, match="collection.sqlite"):
        ef.Collection.open(src)


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    if TRIED:
        width = max(map(len, TRIED))
        lines = [f"  {name:<{width}}  {n:>7,}" for name, n in sorted(TRIED.items())]
        sys.stdout.write("\nfuzz cases tried per reader:\n" + "\n".join(lines) + "\n")
