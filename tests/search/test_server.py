"""The HTTP API against a real uvicorn server on 127.0.0.1, driven with httpx."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")

from embedforge.errors import FormatError, InvalidParameterError  # noqa: E402
from embedforge.search.collection import Collection  # noqa: E402
from embedforge.search.server import check_bind, create_app, serve  # noqa: E402
from embedforge.text.classic import LSA  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"
KEY = "s3cret-key"
MAX_BYTES = 64 * 1024
MAX_BATCH = 16


class LiveServer:
    """uvicorn serving ``app`` on a free 127.0.0.1 port in a background thread."""

    def __init__(self, app) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture(scope="module")
def chunks() -> list[tuple[str, str]]:
    tokens = (DATA / "text8_head.txt").read_text(encoding="ascii").split()
    return [(f"p{i}", " ".join(tokens[j : j + 150])) for i, j in enumerate(range(0, 30_000, 150))]


@pytest.fixture(scope="module")
def collection(tmp_path_factory, chunks) -> Collection:
    lsa = LSA(dim=32, seed=0).fit([t for _, t in chunks])
    col = Collection.create(tmp_path_factory.mktemp("srv") / "col", encoder=lsa)
    col.add(
        [(d, t, {"half": "first" if i < 100 else "second"}) for i, (d, t) in enumerate(chunks)],
        progress=False,
    )
    yield col
    col.close()


@pytest.fixture(scope="module")
def client(collection):
    app = create_app(collection, api_key=KEY, max_request_bytes=MAX_BYTES, max_batch=MAX_BATCH)
    live = LiveServer(app)
    with httpx.Client(base_url=live.url, timeout=30) as c:
        yield c
    live.stop()


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and "Traceback" not in body["error"]
    return body["error"]


def test_health(client, collection):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok", "count": collection.count, "revision": collection.revision, "dim": 32,
    }  # fmt: skip


def test_search_one_and_many_queries(client, collection, chunks):
    r = client.post("/search", json={"queries": chunks[3][1], "k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["results"]) == 1 and body["revision"] == collection.revision
    hit = body["results"][0]
    assert hit["ids"][0] == "p3" and len(hit["ids"]) == len(hit["scores"]) == 3
    assert hit["documents"][0] == {"id": "p3", "text": chunks[3][1], "metadata": {"half": "first"}}
    expected = collection.search(chunks[3][1], k=3)
    np.testing.assert_allclose(hit["scores"], expected.scores[0], rtol=1e-6)
    r = client.post("/search", json={"queries": [chunks[5][1], chunks[150][1]], "k": 2})
    assert [res["ids"][0] for res in r.json()["results"]] == ["p5", "p150"]


def test_search_with_vectors_and_filter(client, collection, chunks):
    vec = collection.embed(chunks[150][1])[0].tolist()
    r = client.post("/search", json={"vectors": [vec], "k": 5, "filter": {"half": "second"}})
    assert r.status_code == 200, r.text
    res = r.json()["results"][0]
    assert res["ids"][0] == "p150"
    assert all(d["metadata"]["half"] == "second" for d in res["documents"])
    r = client.post("/search", json={"vectors": [vec], "k": 5, "filter": {"half": "first"}})
    assert "p150" not in r.json()["results"][0]["ids"]


def test_embed_matches_the_collection_encoder(client, collection):
    r = client.post("/embed", json={"texts": ["the history of anarchism", "philosophy"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dim"] == 32
    np.testing.assert_allclose(
        body["vectors"], collection.embed(["the history of anarchism", "philosophy"]), rtol=1e-6
    )


def test_add_upsert_and_delete_need_the_api_key(client, collection, chunks):
    doc = {"id": "new-1", "text": chunks[10][1][::-1], "metadata": {"src": "api"}}
    error = error_of(client.post("/documents", json={"documents": [doc]}), 401)
    assert "X-API-Key" in error
    wrong = {"X-API-Key": "guess"}
    error_of(client.post("/documents", json={"documents": [doc]}, headers=wrong), 401)
    assert "new-1" not in collection

    auth = {"X-API-Key": KEY}
    before = collection.count
    r = client.post("/documents", json={"documents": [doc]}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["written"] == 1 and r.json()["count"] == before + 1
    assert collection.get("new-1")[0].metadata == {"src": "api"}

    error = error_of(client.post("/documents", json={"documents": [doc]}, headers=auth), 409)
    assert "'new-1' is already in the collection" in error
    doc["text"] = chunks[11][1]
    r = client.post("/documents", json={"documents": [doc], "upsert": True}, headers=auth)
    assert r.status_code == 200 and r.json()["count"] == before + 1
    found = client.post("/search", json={"queries": chunks[11][1], "k": 2}).json()
    assert "new-1" in found["results"][0]["ids"]

    error_of(client.request("DELETE", "/documents", json={"ids": ["new-1"]}), 401)
    r = client.request("DELETE", "/documents", json={"ids": ["new-1"]}, headers=auth)
    assert r.status_code == 200 and r.json()["deleted"] == 1 and r.json()["count"] == before
    error = error_of(
        client.request("DELETE", "/documents", json={"ids": ["new-1"]}, headers=auth), 404
    )
    assert "'new-1'" in error


def test_documents_with_vectors_of_the_wrong_dim(client, collection):
    doc = {"id": "vec-1", "text": "x", "vector": [0.5] * 31}
    error = error_of(
        client.post("/documents", json={"documents": [doc]}, headers={"X-API-Key": KEY}), 422
    )
    assert "'vec-1' has a vector of 31 numbers; the collection's dim is 32" in error
    assert "vec-1" not in collection


@pytest.mark.parametrize(
    "body,status,message",
    [
        ({"queries": "", "k": 3}, 422, "queries[0] is empty"),
        ({"queries": [], "k": 3}, 422, "queries is empty"),
        ({"vectors": [[1.0, 2.0]], "k": 3}, 422, "must each have 32 numbers"),
        ({"vectors": [], "k": 3}, 422, "vectors is empty; send at least one query vector"),
        ({"queries": "x", "k": 0}, 422, "k: Input should be greater than or equal to 1"),
        ({"queries": "x", "colour": "red"}, 422, "unknown field 'colour'"),
        ({"k": 3}, 422, "exactly one of 'queries'"),
        ({"queries": ["x"] * (MAX_BATCH + 1)}, 422, f"at most {MAX_BATCH} per request"),
        ({"queries": "x", "filter": {"half": [1]}}, 422, "invalid request: filter.half"),
    ],
)
def test_bad_search_requests(client, body, status, message):
    assert message in error_of(client.post("/search", json=body), status)


def test_text_that_is_not_utf8_is_422(client, collection):
    body = b'{"documents": [{"id": "bad-utf8", "text": "caf\\udce9"}]}'  # a lone surrogate
    r = client.post(
        "/documents",
        content=body,
        headers={"content-type": "application/json", "X-API-Key": KEY},
    )
    assert "not valid UTF-8" in error_of(r, 422)
    assert "bad-utf8" not in collection


def test_malformed_json_is_400(client):
    r = client.post(
        "/search", content=b'{"queries": "x", ', headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in error_of(r, 400)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 30_000 + b"]" * 30_000,  # nested deeper than the parser goes
        b'{"queries": "\xff\xfe"}',  # not UTF-8
        b'{"vectors": [[' + b"1" * 5000 + b']], "k": 1}',  # more digits than int() converts
    ],
)
def test_bodies_that_cannot_be_decoded_are_400(client, body):
    r = client.post("/search", content=body, headers={"content-type": "application/json"})
    assert "could not be read as JSON" in error_of(r, 400)
    assert client.get("/health").status_code == 200


def test_too_large_request_is_413(client, collection):
    docs = [{"id": f"big-{i}", "text": "word " * 2000} for i in range(10)]  # ~100 KB
    r = client.post("/documents", json={"documents": docs}, headers={"X-API-Key": KEY})
    assert "larger than the limit of 65,536 bytes" in error_of(r, 413)
    assert "big-0" not in collection
    r = client.get("/health")  # the server is still fine
    assert r.status_code == 200


def test_unknown_route_is_a_json_404(client):
    assert error_of(client.get("/nope"), 404) == "Not Found"


def test_openapi_schema_describes_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert set(paths) == {"/search", "/embed", "/documents", "/health"}
    assert set(paths["/documents"]) == {"post", "delete"}
    models = schema["components"]["schemas"]
    assert {
        "SearchRequest",
        "SearchResponse",
        "AddRequest",
        "DeleteRequest",
        "EmbedRequest",
    } <= set(models)
    assert set(models["SearchRequest"]["properties"]) == {"queries", "vectors", "k", "filter"}
    assert "APIKeyHeader" in json.dumps(schema["components"].get("securitySchemes", {}))


def test_create_app_validates_its_arguments(tmp_path, collection):
    with pytest.raises(FormatError, match="is not an embedforge collection"):
        create_app(tmp_path)
    with pytest.raises(InvalidParameterError, match="max_batch must be an integer >= 1; got 0"):
        create_app(collection, max_batch=0)


def chunked(body: bytes, size: int = 4096):
    """A request body httpx sends with Transfer-Encoding: chunked (no Content-Length)."""
    for i in range(0, len(body), size):
        yield body[i : i + size]


@pytest.mark.parametrize("route", ["/search", "/embed", "/documents"])
def test_chunked_body_over_the_limit_is_413(client, collection, route):
    docs = [{"id": f"chunked-{i}", "text": "word " * 2000} for i in range(10)]  # ~100 KB
    body = {
        "/search": {"queries": ["word " * 2000] * 10},
        "/embed": {"texts": ["word " * 2000] * 10},
        "/documents": {"documents": docs},
    }[route]
    r = client.post(
        route,
        content=chunked(json.dumps(body).encode()),
        headers={"content-type": "application/json", "X-API-Key": KEY},
    )
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert "larger than the limit of 65,536 bytes" in error_of(r, 413)
    assert "chunked-0" not in collection
    assert client.get("/health").status_code == 200  # the server is still fine


def test_chunked_body_far_over_the_limit_is_413(client):
    # 8 times the limit: the server drops it as it comes instead of holding it.
    r = client.post(
        "/embed",
        content=chunked(b'{"texts": ["' + b"x" * (8 * MAX_BYTES) + b'"]}', 64 * 1024),
        headers={"content-type": "application/json"},
    )
    assert "larger than the limit" in error_of(r, 413)
    assert client.get("/health").status_code == 200


def test_chunked_body_under_the_limit_is_served(client, collection, chunks):
    body = json.dumps({"queries": chunks[7][1], "k": 2}).encode()
    r = client.post(
        "/search", content=chunked(body, 100), headers={"content-type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert "content-length" not in r.request.headers
    assert r.json()["results"][0]["ids"][0] == "p7"
    texts = ["the history of anarchism", "philosophy"]
    r = client.post(
        "/embed",
        content=chunked(json.dumps({"texts": texts}).encode(), 7),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["vectors"], collection.embed(texts), rtol=1e-6)


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
@pytest.mark.parametrize("route", ["/search", "/documents"])
def test_nan_and_infinity_in_vectors_are_422(client, collection, route, number):
    vector = b"[" + b", ".join([number] + [b"0.5"] * 31) + b"]"
    body = {
        "/search": b'{"vectors": [' + vector + b'], "k": 3}',
        "/documents": b'{"documents": [{"id": "nan-1", "text": "x", "vector": ' + vector + b"}]}",
    }[route]
    r = client.post(
        route, content=body, headers={"content-type": "application/json", "X-API-Key": KEY}
    )
    error = error_of(r, 422)
    assert "NaN and Infinity are not accepted" in error
    assert ("vectors.0.0" if route == "/search" else "documents.0.vector.0") in error
    assert "nan-1" not in collection


@pytest.mark.parametrize(
    "body,message",
    [
        ({"texts": ["x"] * (MAX_BATCH + 1)}, f"at most {MAX_BATCH} per request"),
        ({"texts": []}, "texts is empty"),
        ({"texts": "   "}, "texts[0] is empty"),
        ({"texts": ["x"], "k": 3}, "unknown field 'k'"),
    ],
)
def test_bad_embed_requests(client, body, message):
    assert message in error_of(client.post("/embed", json=body), 422)


@pytest.mark.parametrize("route", ["/search", "/embed"])
def test_search_and_embed_share_the_size_limit(client, route):
    field = "queries" if route == "/search" else "texts"
    r = client.post(route, json={field: ["word " * 2000] * 10})  # ~100 KB, Content-Length
    assert "larger than the limit of 65,536 bytes" in error_of(r, 413)
    r = client.post(route, json={field: ["word"] * (MAX_BATCH + 1)})
    assert f"holds {MAX_BATCH + 1} items" in error_of(r, 422)
    r = client.post(route, json={field: ["word " * 500] * MAX_BATCH})  # ~40 KB: under both
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org"])
def test_serving_beyond_loopback_needs_a_key_or_an_explicit_flag(collection, host):
    with pytest.raises(InvalidParameterError) as info:
        serve(collection, host=host, port=0)  # refused before anything is bound
    message = str(info.value)
    assert f"refusing to serve on {host!r} without an API key" in message
    assert "--api-key-env" in message and "--allow-unauthenticated" in message
    check_bind(host, api_key=KEY)  # a key, or the flag, makes it allowed
    check_bind(host, api_key=None, allow_unauthenticated=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_needs_no_key(host):
    check_bind(host, api_key=None)


def test_check_bind_validates_its_arguments():
    with pytest.raises(InvalidParameterError, match="allow_unauthenticated must be True or False"):
        check_bind("0.0.0.0", None, allow_unauthenticated=1)
    with pytest.raises(InvalidParameterError, match="host must be a non-empty str"):
        check_bind("", None)


def test_searches_during_writes_see_whole_batches_at_the_revision_they_report(tmp_path):
    """Concurrent clients: one writer adds batches over HTTP while two readers search."""
    dim, batch, n_batches = 8, 10, 15
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(batch * n_batches, dim)).astype(np.float32)
    col = Collection.create(tmp_path / "c", encoder=None, dim=dim)
    base = col.revision
    live = LiveServer(create_app(col, api_key=KEY, max_batch=batch))
    failures: list[str] = []
    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def write() -> None:
        with httpx.Client(base_url=live.url, timeout=60, headers={"X-API-Key": KEY}) as c:
            for b in range(n_batches):
                docs = [
                    {"id": f"b{b}-{i}", "text": f"doc {b}-{i}", "vector": v.tolist()}
                    for i, v in enumerate(vectors[b * batch : (b + 1) * batch])
                ]
                r = c.post("/documents", json={"documents": docs})
                if r.status_code != 200:
                    failures.append(f"write {b}: {r.status_code} {r.text}")
        done.set()

    def read() -> None:
        query = {"vectors": [vectors[0].tolist()], "k": batch * n_batches}
        with httpx.Client(base_url=live.url, timeout=60) as c:
            while True:
                finished = done.is_set()
                r = c.post("/search", json=query)
                if r.status_code != 200:
                    failures.append(f"search: {r.status_code} {r.text}")
                    return
                body = r.json()
                ids = body["results"][0]["ids"]
                seen.append((body["revision"], len(ids)))
                per_batch = {x.split("-")[0] for x in ids}
                if len(ids) != batch * len(per_batch):
                    failures.append(f"a half batch: {len(ids)} hits from {len(per_batch)}")
                if finished:
                    return

    threads = [threading.Thread(target=f) for f in (write, read, read)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
    finally:
        done.set()
        live.stop()
    assert failures == []
    # Each answer holds exactly the documents of the revision it reports.
    assert all(hits == batch * (revision - base) for revision, hits in seen), seen
    assert seen[-1] == (base + n_batches, batch * n_batches)
    assert col.count == batch * n_batches
    col.close()
