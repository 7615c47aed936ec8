"""The dataset card in a real headless Chromium (selenium + the system chromedriver): every image loads,
the console stays clean, no caption or plot runs past its figure; per-object distributions are plotted
from the drawn values, not listed as constants; long category labels do not overlap."""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from synth import api

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("card")
    api.generate(ROOT / "recipes" / "shapes.yaml", tmp / "ws", count=6, workers=1)
    return api.report(None, tmp / "report", tmp / "ws", samples=4)


def test_per_object_distributions_are_plotted_not_listed_as_constants(card: Path) -> None:
    html = card.read_text()
    constants = html.split("constant parameter")[1] if "constant parameter" in html else ""
    assert "rotation_deg: " in html and "one per object" in html
    assert "rotation_deg" not in constants and "uniform" not in constants
    assert "drawn per object" in html


def test_long_category_labels_do_not_overlap() -> None:
    import matplotlib
    matplotlib.use("Agg")
    from synth.report.card import _bars
    counter = Counter({f"a very long category name number {i}": 10 - i for i in range(10)})
    fig = _bars(counter, "class")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].get_xticklabels()]
    assert len(boxes) == 10 and all(len(t.get_text()) <= 18 for t in fig.axes[0].get_xticklabels())
    # rotated labels: neighbours may share x ranges, but their text bodies must not collide along the bars
    for a, b in zip(boxes, boxes[1:]):
        assert b.x1 - a.x1 >= 0.9 * (fig.dpi * 0.3 * 0.9), (a, b)


def _driver():  # headless Chromium through the system chromedriver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts)


def test_card_renders_in_headless_chromium(card: Path) -> None:
    driver = _driver()
    try:
        driver.get(card.resolve().as_uri())
        broken = driver.execute_script(
            "return [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
        images = driver.execute_script("return document.images.length")
        overflow = driver.execute_script("""
            const out = [];
            for (const f of document.querySelectorAll('figure')) {
              const img = f.querySelector('img'), cap = f.querySelector('figcaption');
              const w = img.getBoundingClientRect().width;
              if (cap && cap.getBoundingClientRect().width > w + 1) out.push('caption: ' + cap.textContent);
              if (cap && cap.scrollWidth > cap.clientWidth + 1) out.push('caption text: ' + cap.textContent);
              if (f.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                out.push('figure past the page: ' + (cap ? cap.textContent : img.src));
            }
            for (const c of document.querySelectorAll('td,th'))
              if (c.scrollWidth > c.clientWidth + 1) out.push('cell: ' + c.textContent.slice(0, 60));
            if (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1)
              out.push('page scrolls sideways');
            return out;""")
        logs = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    finally:
        driver.quit()
    assert images >= 5 and broken == []
    assert logs == []
    assert overflow == []
