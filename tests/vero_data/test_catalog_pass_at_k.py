"""`write_pass_at_k`: a filter output's catalog is its input's plus the pass@k tables, and exported rows the filter
dropped get their own status; the input catalog is never changed."""

from __future__ import annotations

import duckdb
import polars as pl

from vero_data.catalog import write_pass_at_k


def _difficulty() -> pl.DataFrame:
    return pl.DataFrame({"id": ["a", "b", "c"], "pass_count": [1, 0, None], "drop_reason": [None, "never_solved",
                         "missing_answer"]}).with_columns(pl.col("drop_reason").is_null().alias("kept"))


def test_input_catalog_gains_pass_at_k_tables_and_dropped_status(tmp_path):
    src = tmp_path / "in.duckdb"
    con = duckdb.connect(str(src))
    con.execute("CREATE TABLE samples AS SELECT * FROM (VALUES ('a', 'exported'), ('b', 'exported'), "
                "('c', 'exported'), ('d', 'duplicate')) t(id, status)")
    con.close()
    comps = pl.DataFrame({"id": ["a"], "idx": [0], "text": ["<answer>1</answer>"]})
    out = write_pass_at_k(tmp_path / "out.duckdb", src, _difficulty(), comps)
    con = duckdb.connect(str(out), read_only=True)
    assert con.execute("SELECT id, status FROM samples ORDER BY id").fetchall() == [
        ("a", "exported"), ("b", "passk_dropped"), ("c", "passk_dropped"), ("d", "duplicate")]
    assert con.execute("SELECT count(*) FROM difficulty").fetchone() == (3,)
    assert con.execute("SELECT text FROM completions").fetchone() == ("<answer>1</answer>",)
    con.close()
    con = duckdb.connect(str(src), read_only=True)
    assert con.execute("SELECT count(*) FROM samples WHERE status = 'passk_dropped'").fetchone() == (0,)
    con.close()


def test_without_an_input_catalog_only_the_pass_at_k_tables(tmp_path):
    out = write_pass_at_k(tmp_path / "out.duckdb", None, _difficulty())
    con = duckdb.connect(str(out), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    con.close()
    assert tables == {"difficulty"}
