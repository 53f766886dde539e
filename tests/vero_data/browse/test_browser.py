"""End to end in a real browser: the app served by uvicorn, headless Chromium (Debian's `chromium`) driven over the
DevTools protocol through overview → gallery filter → full-size image → duplicates → quarantine, asserting on what
is rendered: counts, images decoded (natural width > 0), no console errors. Screenshots go to the test's tmp
folder. Skips, saying why, where Chromium is not installed (`.ci/run` installs it when it can)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

pytest.importorskip("uvicorn", reason="the browse extra is not installed")
from tests.vero_data.browse.cdp import IMAGES_LOADED, Browser, find_chromium  # noqa: E402

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium): the "
                                                        "browser test needs a real browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(folder, cache):
    import uvicorn

    from vero_data.browse.app import LOOPBACK, create_app

    app = create_app(folder, cache_root=cache, allowed_hosts=list(LOOPBACK))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    return srv, t, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(tiny_build, tmp_path_factory):
    srv, t, url = _serve(tiny_build, tmp_path_factory.mktemp("thumbs"))
    yield url
    srv.should_exit = True
    t.join(10)


@pytest.fixture
def browser(tmp_path):
    b = Browser(CHROMIUM, tmp_path / "profile")
    yield b
    b.close()


def _loaded(b: Browser) -> list:
    imgs = b.run(IMAGES_LOADED)
    assert imgs, "no images on the page"
    bad = [src for src, w in imgs if not w]
    assert not bad, f"images that did not load: {bad[:5]}"
    return imgs


def test_curator_walk_in_chromium(server, browser, tmp_path):
    b = browser
    b.goto(server + "/")
    assert b.run("document.querySelector('h1').textContent") == "Overview"
    assert b.run("document.querySelector('.summary b.total').textContent") == "54"
    rows = b.run("[...document.querySelectorAll('table.targets tr')].slice(1).map(r => [r.cells[0].textContent, "
                 "r.cells[1].textContent])")
    assert dict(rows)["chart_ocr"] == "24" and dict(rows)["knowledge"] == "30"
    b.screenshot(tmp_path / "overview.png")

    b.goto(server + "/gallery")
    assert b.run("document.getElementById('match-count').textContent") == "54"
    assert b.run("document.querySelectorAll('article.card').length") == 48
    imgs = _loaded(b)
    assert len(imgs) == 48
    b.screenshot(tmp_path / "gallery.png")

    # pick a category in the filter form: the page reloads with only that category
    b.run("""(() => { const s = document.querySelector('select[name=category]');
                      s.value = 'knowledge'; s.dispatchEvent(new Event('change', {bubbles: true})); })()""",
          navigates=True)
    assert "category=knowledge" in b.run("location.search")
    assert b.run("document.getElementById('match-count').textContent") == "30"
    cats = b.run("[...document.querySelectorAll('article.card .cat')].map(e => e.textContent)")
    assert len(cats) == 30 and set(cats) == {"knowledge"}
    _loaded(b)

    # a click on a thumbnail shows the full-size image over the page
    b.run("document.querySelector('a.zoom').click()")
    size = b.run("""new Promise(r => { const i = document.querySelector('#lightbox img');
        const done = () => r([document.getElementById('lightbox').hidden, i.naturalWidth]);
        i.complete && i.naturalWidth ? done() : i.addEventListener('load', done); setTimeout(done, 10000); })""")
    assert size[0] is False and size[1] > 160  # larger than the thumbnail
    b.screenshot(tmp_path / "lightbox.png")

    b.goto(server + "/duplicates")
    assert b.run("document.getElementById('group-count').textContent") == "6"
    assert b.run("document.querySelectorAll('article.card.kept').length") == 6
    assert b.run("document.querySelectorAll('article.card.removed').length") == 6
    _loaded(b)
    b.screenshot(tmp_path / "duplicates.png")

    b.goto(server + "/quarantine")
    b.run("document.querySelector('table.qcounts a').click()", navigates=True)
    assert "reason=dup_exact" in b.run("location.search")
    assert b.run("document.querySelectorAll('.qrows article').length") == 6
    _loaded(b)
    b.screenshot(tmp_path / "quarantine.png")

    assert b.errors == [], b.errors
    assert all((tmp_path / f"{n}.png").stat().st_size > 1000 for n in ("overview", "gallery", "duplicates"))


def test_pass_counts_in_chromium(filtered, browser, tmp_path):
    out, diff = filtered
    srv, t, base = _serve(out, tmp_path / "thumbs")
    try:
        b = browser
        b.goto(base + "/passk")
        assert b.run("document.querySelector('h1').textContent").startswith("Pass counts")
        want = sum(1 for d in diff if d["pass_count"] == 2 and d["category"] == "knowledge")
        # the heat-map cell (knowledge, 2 passes) opens the gallery at that pass count
        b.run("""[...document.querySelectorAll('table.heat a')].find(a => a.href.includes('pass_count=2') &&
                 a.href.includes('category=knowledge')).click()""", navigates=True)
        assert b.run("document.getElementById('match-count').textContent") == str(want)
        assert len(_loaded(b)) == want
        b.screenshot(tmp_path / "passk-gallery.png")
        assert b.errors == [], b.errors
    finally:
        srv.should_exit = True
        t.join(10)
