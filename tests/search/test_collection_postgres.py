"""What only a PostgreSQL collection meets: bad DSNs, servers, credentials, tables; with a real server."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from embedforge.errors import FormatError, InvalidParameterError
from embedforge.search._store_pg import redact_dsn
from embedforge.search.collection import Collection
from embedforge.text.classic import LSA

SECRET = "hunter2-not-shown"


def test_redacted_dsn_never_shows_the_password():
    assert redact_dsn("postgresql://u:pw@h:5/db?table=t") == "postgresql://u:***@h:5/db?table=t"
    assert "pw" not in redact_dsn("postgresql://u@h/db?password=pw&table=t")
    assert redact_dsn("postgres://h/db") == "postgres://h/db"


def test_unreachable_server_names_the_dsn_without_password():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dsn = f"postgresql://someone:{SECRET}@127.0.0.1:{port}/db?table=t"
    pytest.importorskip("psycopg")
    with pytest.raises(InvalidParameterError, match="cannot be reached") as info:
        Collection.open(dsn)
    assert f"someone:***@127.0.0.1:{port}/db" in str(info.value)
    assert SECRET not in str(info.value)
    with pytest.raises(InvalidParameterError, match="cannot be reached"):
        Collection.create(dsn, encoder=None, dim=4)


def test_wrong_credentials(postgres):
    dsn = postgres.url(password=SECRET) + "?table=t"
    with pytest.raises(InvalidParameterError, match="refused the user name or password") as info:
        Collection.create(dsn, encoder=None, dim=4)
    assert SECRET not in str(info.value) and "postgres:***@127.0.0.1" in str(info.value)
    with pytest.raises(InvalidParameterError, match="does not exist"):
        Collection.open(postgres.url("no_such_db") + "?table=t")


def test_missing_extension_says_who_must_enable_it(postgres):
    postgres.sql(f"CREATE ROLE limited LOGIN PASSWORD '{SECRET}'")
    postgres.sql("CREATE DATABASE noext OWNER postgres")
    postgres.sql("GRANT CREATE ON SCHEMA public TO limited", database="noext")
    dsn = postgres.url("noext", user="limited", password=SECRET) + "?table=docs"
    with pytest.raises(InvalidParameterError, match="CREATE EXTENSION vector") as info:
        Collection.create(dsn, encoder=None, dim=4)
    assert "limited:***@" in str(info.value) and SECRET not in str(info.value)
    postgres.sql("CREATE EXTENSION vector", database="noext")  # the administrator's step
    with Collection.create(dsn, encoder=None, dim=4) as col:
        col.add([("a", "x")], vectors=np.ones((1, 4), dtype=np.float32), progress=False)
        assert col.search(np.ones(4), k=1).ids[0, 0] == "a"


def test_a_table_of_another_tool_is_not_opened_or_overwritten(postgres):
    postgres.sql("CREATE TABLE products (id int PRIMARY KEY, name text, price numeric)")
    dsn = postgres.url() + "?table=products"
    with pytest.raises(FormatError, match="not an embedforge collection") as info:
        Collection.open(dsn)
    assert "'name'" in str(info.value) and "postgres:***@" in str(info.value)
    with pytest.raises(InvalidParameterError, match="already exists"):
        Collection.create(dsn, encoder=None, dim=4)
    with pytest.raises(FormatError, match="does not exist"):
        Collection.open(postgres.url() + "?table=never_made")


def test_create_twice_and_bad_table_names(postgres):
    dsn = postgres.dsn()
    Collection.create(dsn, encoder=None, dim=4).close()
    with pytest.raises(InvalidParameterError, match="already exists"):
        Collection.create(dsn, encoder=None, dim=4)
    with pytest.raises(InvalidParameterError, match="not a valid table name"):
        Collection.create(postgres.url() + "?table=Robert');DROP", encoder=None, dim=4)
    with pytest.raises(InvalidParameterError, match="search='gpu'"):
        Collection.open(dsn.replace("?", "?search=gpu&"))


def test_dimension_mismatch_with_the_stored_table(postgres):
    dsn = postgres.dsn()
    Collection.create(dsn, encoder=None, dim=8).close()
    table = dsn.rsplit("table=", 1)[1]
    postgres.sql(f"ALTER TABLE {table} ALTER COLUMN embedding TYPE vector(16)")
    with pytest.raises(FormatError, match="dim 16 but its configuration says dim 8"):
        Collection.open(dsn)


def test_ivf_pq_needs_the_local_faiss_search(postgres):
    with pytest.raises(InvalidParameterError, match="search=faiss"):
        Collection.create(postgres.dsn(), encoder=None, dim=16, index="ivf-pq", pq_m=4)
    vectors = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
    dsn = postgres.dsn(search="faiss")
    col = Collection.create(dsn, encoder=None, dim=16, index="ivf-pq", pq_m=4, train_size=256)
    col.add([(f"d{i}", "") for i in range(300)], vectors=vectors, progress=False)
    assert col.info()["index_trained"] is True
    assert np.mean(col.search(vectors[:50], k=1).ids[:, 0] == [f"d{i}" for i in range(50)]) > 0.9
    col.close()


def test_a_fitted_encoder_must_be_saved_first(postgres, tmp_path):
    texts = [f"document number {i} about topic {i % 7}" for i in range(60)]
    lsa = LSA(dim=8, seed=0).fit(texts)
    with pytest.raises(InvalidParameterError, match=r"encoder.save\(DIR\)"):
        Collection.create(postgres.dsn(), encoder=lsa)
    lsa.save(tmp_path / "lsa")
    dsn = postgres.dsn()
    with Collection.create(dsn, encoder=str(tmp_path / "lsa")) as col:
        col.add([(f"d{i}", t) for i, t in enumerate(texts)], progress=False)
    with Collection.open(dsn) as col:  # the encoder is found again from its directory
        np.testing.assert_allclose(col.embed(texts[5]), col.get_vectors("d5"), atol=1e-5)
        assert col.search(texts[5], k=1).scores[0, 0] > 0.999
