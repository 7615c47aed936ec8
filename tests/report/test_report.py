"""`synth report` in a real headless Chromium: the page loads without console errors, every section is
there and every image decodes; a screenshot is taken. Checks the numbers behind the plots too."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from synth import api
from synth.report.card import SECTIONS
from synth.data.sweep import run_sweep
from synth.recipe.sweep import load_sweep

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

SHAPES = """name: shapes_small
scene: shapes
count: 6
seed: 2
params:
  width: 64
  height: 64
  num_objects: {randint: [1, 4]}
  background:
    brightness: {uniform: [0.2, 0.8]}
split: {train: 0.5, val: 0.5}
"""
SWEEP = """name: tiny
recipe: shapes.yaml
mode: grid
count: 3
sweep:
  params.background.kind: [flat, noise]
"""
TEXT = """name: words
scene: text_line
count: 4
seed: 1
params:
  size: 24
  text.words: {randint: [1, 3]}
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("report")
    (tmp / "shapes.yaml").write_text(SHAPES)
    (tmp / "sweep.yaml").write_text(SWEEP)
    (tmp / "words.yaml").write_text(TEXT)
    ws = api.open_workspace(str(tmp / "ws"), create=True)
    api.generate(tmp / "shapes.yaml", ws, workers=1)
    api.generate(tmp / "words.yaml", ws, workers=1)
    run_sweep(load_sweep(tmp / "sweep.yaml"), ws, workers=1)
    api.generate(RECIPES / "sound_events.yaml", ws, count=2, workers=1)  # audio events
    api.generate(RECIPES / "customers.yaml", ws, count=1, workers=1)  # a table block: column shapes
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "report", "-w", str(tmp / "ws"), "-o",
                           str(tmp / "out")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return tmp, tmp / "out" / "index.html"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium and chromium-driver are required (deps/apt.txt; `.ci/run` installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,2400", f"--user-data-dir={tmp_path_factory.mktemp('chrome-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_report_loads_in_chromium_with_every_section_and_no_console_errors(report, browser, tmp_path):
    _, index = report
    browser.get(index.as_uri())
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    for sid, title in SECTIONS:
        section = browser.find_element("id", sid)
        assert section.is_displayed() and title in section.text
    broken = browser.execute_script(
        "return [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
    assert broken == []
    n_images = browser.execute_script("return document.images.length")
    assert n_images >= 8
    sweep_text = browser.find_element("id", "sweep").text
    assert "sweep tiny" in sweep_text and "2 of 2 variants" in sweep_text and '"noise"' in sweep_text
    assert "text_line" in browser.find_element("id", "contact-sheets").text
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    shutil.copy(shot, index.parent / "screenshot.png")  # kept next to the report for a human look


def test_report_plots_every_varying_param_and_the_label_stats(report):
    tmp, index = report
    text = index.read_text()
    for param in ("num_objects", "background.brightness", "background.kind"):  # varying across rows
        assert f'alt="{param} (' in text, param
    for stat in ("objects per image", "box width (px)", "transcript length (chars)"):
        assert f'alt="{stat}: n=' in text, stat
    assert 'alt="event duration (s): n=' in text and 'alt="events per clip: n=' in text
    assert 'alt="column age (10000 values)"' in text and 'alt="column plan (10000 values)"' in text
    assert "waveforms with labelled events" in text
    ws = api.open_workspace(str(tmp / "ws"))
    rows = ws.manifest.to_table().to_pylist()
    n_objects = sum(len(json.loads(r["labels"]).get("objects", [])) for r in rows)
    assert f"box width (px): n={n_objects}," in text
    labels = [json.loads(r["labels"]) for r in rows]
    n_classes = sum(len(lb.get("objects", [])) + len(lb.get("events", [])) + ("class" in lb) for lb in labels)
    assert f"count per class ({n_classes} in all)" in text  # object, sample and audio event classes


def test_report_of_an_unknown_version_is_a_clear_error(report, tmp_path):
    tmp, _ = report
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "report", "nope", "-w", str(tmp / "ws"), "-o",
                           str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 2 and "no version or tag named 'nope'" in proc.stderr and "Traceback" not in proc.stderr
