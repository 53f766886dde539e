"""The browse app through Starlette's TestClient: every page answers, paging and filters count right, bad input is
refused (unknown columns, SQL in values, paths), images and thumbnails come from the shards by row id."""

from __future__ import annotations

import io
import re

import duckdb
import pytest

pytest.importorskip("starlette.testclient", reason="the browse extra is not installed")
from starlette.testclient import TestClient  # noqa: E402

from vero_data.browse.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def client(tiny_build, tmp_path_factory):
    cache = tmp_path_factory.mktemp("thumbs")
    with TestClient(create_app(tiny_build, cache_root=cache)) as c:
        c.cache = cache
        yield c


def _cards(html: str) -> list[str]:
    return re.findall(r'<article class="card" data-id="([^"]+)"', html)


def _count(html: str, anchor: str = "match-count") -> int:
    return int(re.search(rf'id="{anchor}">([\d,]+)<', html).group(1).replace(",", ""))


def test_every_page_answers_with_its_content(client, tiny_build):
    o = client.get("/")
    assert o.status_code == 200 and "54</b> rows in 3 shards" in o.text
    assert "chart_ocr" in o.text and "knowledge" in o.text and "Answer length" in o.text
    # targets: the source's own, and its category's (the sum of its sources' targets)
    bars = o.text.split(">bars</a>")[1].split("</tr>")[0]
    assert re.findall(r'class="num">([\d–]+)<', bars)[:3] == ["24", "24", "24"]  # read, rows, paper target
    chart = o.text.split(">chart_ocr</a>")[1].split("</tr>")[0]
    assert re.findall(r'class="num">([^<]*)<', chart)[3] == "24"  # rows, quota, shortfall, paper target
    # per source: read, exported, dropped by reason (the copies of `bars` lose all 6 rows to dedup)
    again = o.text.split("bars_again")[1].split("</tr>")[0]
    assert re.findall(r'class="num">(\d+)<', again)[:2] == ["6", "0"] and "dup_exact: 6" in again
    assert o.headers["content-security-policy"].startswith("default-src 'none'")
    for url in ("/gallery", "/duplicates", "/quarantine", "/quarantine?stage=dedup&reason=dup_exact",
                "/static/browse.css", "/static/browse.js"):
        r = client.get(url)
        assert r.status_code == 200, url
    assert client.get("/passk").status_code == 404  # a build without pass counts has no pass@k page
    assert client.get("/eval").status_code == 404


def test_gallery_pages_through_every_row_once(client):
    seen: list[str] = []
    first = client.get("/gallery", params={"per_page": 24})
    assert _count(first.text) == 54 and "page 1 of 3" in first.text
    for page in (1, 2, 3):
        seen += _cards(client.get("/gallery", params={"per_page": 24, "page": page}).text)
    assert len(seen) == len(set(seen)) == 54
    shard_ids = duckdb.connect().execute("SELECT count(DISTINCT id) FROM read_parquet(?)",
                                         [str(client.app.state.view.root / "data" / "*.parquet")]).fetchone()[0]
    assert shard_ids == 54
    assert _cards(client.get("/gallery", params={"per_page": 24, "page": 4}).text) == []


def test_gallery_filters_match_the_catalog(client, tiny_build):
    con = duckdb.connect(str(tiny_build / "catalog.duckdb"), read_only=True)
    want = con.execute("SELECT count(*) FROM samples WHERE status = 'exported' AND category = 'knowledge'").fetchone()[0]
    con.close()
    r = client.get("/gallery", params={"category": "knowledge"})
    assert _count(r.text) == want == 30
    ids = _cards(r.text)
    assert len(ids) == 30 and "gen" not in r.text.split('id="match-count"')[0].split("<form")[0]
    both = client.get("/gallery", params={"category": "knowledge", "reward_type": "no_such_type"})
    assert _count(both.text) == 0 and "no rows match" in both.text
    assert _count(client.get("/gallery", params={"source": "bars"}).text) == 24


@pytest.mark.parametrize("params", [
    {"order": "id; DROP TABLE shard_rows"}, {"page": "0"}, {"page": "x"}, {"per_page": "1000000"},
    {"pass_count": "1 OR 1=1"},
])
def test_bad_parameters_are_refused(client, params):
    r = client.get("/gallery", params=params)
    assert r.status_code == 400
    assert client.get("/gallery").status_code == 200  # and the table is still there


def test_sql_in_a_filter_value_is_only_a_value(client):
    r = client.get("/gallery", params={"category": "knowledge' OR '1'='1"})
    assert r.status_code == 200 and _count(r.text) == 0
    r = client.get("/quarantine", params={"stage": "dedup' --", "reason": "x"})
    assert r.status_code == 200 and "0 rows" in r.text


@pytest.mark.parametrize("url", [
    "/row/..%2F..%2Fcatalog.duckdb", "/image/..%2Fcatalog.duckdb/0", "/static/../catalog.duckdb",
    "/static/..%2F..%2Fcatalog.duckdb", "/image/%2Fetc%2Fpasswd/0", "/thumb/x/0?size=99999",
    "/row/does-not-exist", "/image/does-not-exist/0",
])
def test_paths_outside_the_build_are_never_served(client, url):
    r = client.get(url)
    assert r.status_code in (400, 404), url
    assert b"DUCK" not in r.content and b"root:" not in r.content


def test_methods_other_than_get_are_refused(client):
    assert client.post("/gallery").status_code == 405


def test_images_and_cached_thumbnails(client, tiny_build):
    from PIL import Image

    rid = _cards(client.get("/gallery").text)[0]
    full = client.get(f"/image/{rid}/0")
    assert full.status_code == 200 and full.headers["content-type"] in ("image/png", "image/jpeg", "image/webp")
    w, h = Image.open(io.BytesIO(full.content)).size
    t = client.get(f"/thumb/{rid}/0", params={"size": 160})
    assert t.status_code == 200 and t.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(t.content)).size) == 160 < max(w, h)
    cached = list(client.cache.rglob("*.jpg"))
    assert cached and not any(p.is_relative_to(tiny_build) for p in cached)
    assert client.get(f"/thumb/{rid}/0", params={"size": 160}).content == t.content
    assert client.get(f"/image/{rid}/5").status_code == 404


def test_row_page_shows_lineage_and_extra_info(client):
    rid = _cards(client.get("/gallery", params={"source": "bars"}).text)[0]
    r = client.get(f"/row/{rid}")
    assert r.status_code == 200
    assert "upstream index" in r.text and "extra_info" in r.text and f"/image/{rid}/0" in r.text


def test_duplicates_and_quarantine_name_the_kept_row(client, tiny_build):
    con = duckdb.connect(str(tiny_build / "catalog.duckdb"), read_only=True)
    kept = {r[0] for r in con.execute("SELECT dup_of FROM quarantine WHERE stage = 'dedup'").fetchall()}
    con.close()
    d = client.get("/duplicates")
    assert _count(d.text, "group-count") == len(kept) == 6
    assert all(k in d.text for k in kept) and "removed · <b>exact</b>" in d.text
    assert d.text.count('<article class="card removed">') == 6
    # the removed copies never reached a shard: their images come from the build's ingest parts
    removed = re.findall(r'card removed">.*?href="/image/([0-9a-f]+)/0"', d.text, re.S)
    assert len(removed) == 6 and client.get(f"/image/{removed[0]}/0").status_code == 200
    q = client.get("/quarantine")
    assert re.search(r"dup_exact</a></td><td class=\"num\">6<", q.text)
    rows = client.get("/quarantine", params={"stage": "dedup", "reason": "dup_exact"})
    assert "6 rows" in rows.text and all(k in rows.text for k in kept)


def test_filter_output_has_pass_counts(filtered, tmp_path):
    out, diff = filtered
    with TestClient(create_app(out, cache_root=tmp_path)) as c:
        assert c.get("/").status_code == 200
        p = c.get("/passk")
        assert p.status_code == 200 and "pass@4" in p.text
        kept = sum(1 for d in diff if d["kept"])
        assert _count(c.get("/gallery").text) == kept
        for pc in (1, 2, 3):
            want = sum(1 for d in diff if d["pass_count"] == pc)
            assert _count(c.get("/gallery", params={"pass_count": pc}).text) == want
        assert "all_fail" in p.text and "all_pass" in p.text
        rid = _cards(c.get("/gallery", params={"pass_count": 2}).text)[0]
        row = c.get(f"/row/{rid}").text
        assert "pass count</th><td>2 of 4" in row and row.count("<article class=\"sample right\">") == 2
        assert "&lt;think&gt;try 3&lt;/think&gt;" in row  # responses shown, escaped
        # the dedup copies are not stored in a filter output: the page says so instead of failing
        assert c.get("/duplicates").status_code == 200


def test_eval_run_shows_samples(eval_run, tmp_path):
    with TestClient(create_app(eval_run, cache_root=tmp_path)) as c:
        front = c.get("/")
        assert front.status_code == 200 and "synth_count" in front.text and "3.3" in front.text
        s = c.get("/eval", params={"benchmark": "synth_count", "per_page": 24})
        assert s.status_code == 200 and "30 samples" in s.text and "page 1 of 2" in s.text
        assert "\\boxed{3}" in s.text
        wrong = c.get("/eval", params={"benchmark": "synth_count", "score": "wrong"})
        assert "29 samples" in wrong.text
        assert c.get("/eval", params={"benchmark": "../results"}).status_code == 400


def test_a_folder_that_is_not_an_output_is_refused(tmp_path):
    from vero_data.errors import ConfigError

    with pytest.raises(ConfigError, match="is not a vero output"):
        create_app(tmp_path)


def test_concurrent_requests_on_a_real_server(tiny_build, tmp_path):
    """uvicorn with 16 requests at once (pages, images, thumbnails): every answer complete and the same as alone."""
    import threading
    import time
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    import uvicorn

    from vero_data.browse.app import LOOPBACK

    app = create_app(tiny_build, cache_root=tmp_path, allowed_hosts=list(LOOPBACK))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    port = srv.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    try:
        ids = _cards(urllib.request.urlopen(base + "/gallery").read().decode())
        urls = [f"/gallery?per_page=24&page={p}" for p in (1, 2, 3)] + [f"/thumb/{i}/0?size=160" for i in ids[:6]] \
            + [f"/image/{i}/0" for i in ids[6:10]] + ["/", "/duplicates", "/quarantine"]

        def get(u):
            with urllib.request.urlopen(base + u, timeout=30) as r:
                return r.status, r.read()

        alone = [get(u) for u in urls]
        with ThreadPoolExecutor(16) as ex:
            together = list(ex.map(get, urls))
        assert together == alone and all(s == 200 for s, _ in together)
        # a Host header other than the loopback names is refused (DNS rebinding)
        req = urllib.request.Request(base + "/", headers={"Host": "evil.example"})
        try:
            code = urllib.request.urlopen(req).status
        except urllib.error.HTTPError as e:
            code = e.code
        assert code == 400
    finally:
        srv.should_exit = True
        t.join(10)


def test_a_shard_linking_outside_the_folder_is_not_read(tiny_build, tmp_path):
    import shutil

    import pyarrow.parquet as pq

    folder = tmp_path / "build"
    shutil.copytree(tiny_build, folder, ignore=shutil.ignore_patterns(".run"))
    shard = sorted((folder / "data").glob("*.parquet"))[0]
    outside = tmp_path / "elsewhere.parquet"
    t = pq.read_table(shard).slice(0, 1)
    pq.write_table(t.set_column(0, "id", [["from-outside"]]), outside)
    (folder / "data" / "train-99999-of-99999.parquet").symlink_to(outside)
    with TestClient(create_app(folder, cache_root=tmp_path / "c")) as c:
        assert _count(c.get("/gallery").text) == 54
        assert c.get("/row/from-outside").status_code == 404
        assert c.get("/image/from-outside/0").status_code == 404


def test_a_truncated_shard_is_one_line(tiny_build, tmp_path):
    import shutil

    from vero_data.errors import ConfigError

    folder = tmp_path / "build"
    shutil.copytree(tiny_build, folder, ignore=shutil.ignore_patterns(".run"))
    shard = sorted((folder / "data").glob("*.parquet"))[1]
    shard.write_bytes(shard.read_bytes()[:200])
    with pytest.raises(ConfigError, match=f"{shard.name}: not a readable Parquet shard"):
        create_app(folder, cache_root=tmp_path / "c")


def test_rows_that_never_reached_a_shard_are_browsable_by_status(client, tiny_build):
    con = duckdb.connect(str(tiny_build / "catalog.duckdb"), read_only=True)
    counts = dict(con.execute("SELECT status, count(*) FROM samples GROUP BY ALL").fetchall())
    con.close()
    assert _count(client.get("/gallery").text) == counts["exported"]
    for status, n in counts.items():
        if status != "exported":
            r = client.get("/gallery", params={"status": status})
            assert r.status_code == 200 and _count(r.text) == n, status
    dup = _cards(client.get("/gallery", params={"status": "duplicate"}).text)
    assert len(dup) == counts["duplicate"] == 6
    assert client.get(f"/thumb/{dup[0]}/0").status_code == 200  # from the build's ingest parts
    assert client.get("/gallery", params={"status": "exported' OR 1=1 --"}).status_code == 400


@pytest.mark.parametrize("where", ["inside_build", "unwritable"])
def test_thumbnails_fall_back_to_memory(tiny_build, tmp_path, where):
    if where == "inside_build":
        root = tiny_build / "thumbs"
    else:
        (tmp_path / "a-file").write_text("x")
        root = tmp_path / "a-file"
    before = sorted(p.name for p in tiny_build.iterdir())
    with TestClient(create_app(tiny_build, cache_root=root)) as c:
        rid = _cards(c.get("/gallery").text)[0]
        first = c.get(f"/thumb/{rid}/0")
        assert first.status_code == 200 and c.get(f"/thumb/{rid}/0").content == first.content
    assert sorted(p.name for p in tiny_build.iterdir()) == before  # nothing written into the build


def test_curated_row_shows_the_answer_before_and_the_verdicts(tiny_build, tmp_path):
    """A `vero data curate` output's extra columns: `answer_raw` beside the canonical answer and the `curation`
    verdicts (JSON) on the row page."""
    import json
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "curated"
    (out / "data").mkdir(parents=True)
    shutil.copyfile(tiny_build / "catalog.duckdb", out / "catalog.duckdb")
    shard = sorted((tiny_build / "data").glob("*.parquet"))[0]
    t = pq.read_table(shard)
    verdict = json.dumps({"canonicalise": {"model": "judge-m", "verdict": "changed", "reason": "units dropped"}})
    t = t.append_column("answer_raw", pa.array(["12 cm"] + [None] * (t.num_rows - 1), pa.string()))
    t = t.append_column("curation", pa.array([verdict] * t.num_rows, pa.string()))
    pq.write_table(t, out / "data" / shard.name)
    rid = t.column("id")[0].as_py()
    with TestClient(create_app(out, cache_root=tmp_path / "thumbs")) as c:
        page = c.get(f"/row/{rid}").text
        other = c.get(f"/row/{t.column('id')[1].as_py()}").text
    assert "answer before curation" in page and "12 cm" in page
    assert "Curation (vero data curate)" in page and "units dropped" in page
    assert "answer before curation" not in other  # no answer_raw: nothing was changed
