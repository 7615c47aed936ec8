"""synth fit on a large table: one streaming pass in bounded memory, exact whole-file statistics (rows,
missing rates, ranges, category weights), a seeded sample that makes the recipe reproducible, and clean
errors (exit 2, no traceback) for oversized, non-UTF-8 and duplicate-header input."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

from synth.errors import SynthError
from synth.tabular.fit import ColumnSummary, fit_column, scan_table

ROWS = 1_450_000  # about 50 MB of CSV
PEAK_LIMIT_BYTES = 1536 * 1024**2
# runs the command as its own child, so the peak is that command's alone, not the largest of this session's
PEAK_OF = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)")


def synth_fit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth.cli", "fit", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(0)
    x = rng.normal(50, 10, ROWS).round(3)
    frame = pd.DataFrame({
        "id": np.char.add("u", rng.permutation(ROWS).astype(str)),
        "x": x,
        "y": (0.8 * x + rng.gamma(2.0, 3.0, ROWS)).round(2),
        "n": rng.integers(0, 1000, ROWS),
        "colour": rng.choice(np.array(["red", "green", "blue", "yellow"]), ROWS, p=[0.4, 0.3, 0.2, 0.1]),
        "flag": rng.random(ROWS) < 0.3,
    })
    frame.loc[rng.random(ROWS) < 0.1, "y"] = np.nan
    path = tmp_path_factory.mktemp("large") / "big.csv"
    frame.to_csv(path, index=False)
    assert path.stat().st_size > 45 * 1024**2
    return path, frame.drop(columns="id")


def test_large_csv_is_fitted_in_bounded_memory_with_whole_file_statistics(big_csv, tmp_path):
    pytest.importorskip("resource")
    path, frame = big_csv
    out = tmp_path / "big.yaml"
    done = subprocess.run([sys.executable, "-c", PEAK_OF, sys.executable, "-m", "synth.cli", "fit", str(path),
                           "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    peak = int(done.stdout.strip().splitlines()[-1]) * (1 if sys.platform == "darwin" else 1024)
    assert peak < PEAK_LIMIT_BYTES, f"peak memory {peak / 1024**2:.0f} MiB"
    assert f"sample of 200,000 of {ROWS:,} rows" in done.stdout

    recipe = load(out)
    cols = recipe["params"]["columns"]
    assert f"({ROWS} rows x 6 columns)" in recipe["description"] and recipe["count"] == -(-ROWS // 10_000)
    assert cols["y"]["missing"] == round(float(frame["y"].isna().mean()), 6)  # every row, not the sample's
    assert "missing" not in cols["x"]
    assert (cols["x"]["min"], cols["x"]["max"]) == (frame["x"].min(), frame["x"].max())
    assert cols["x"]["round"] == 3 and cols["y"]["round"] == 2
    share = frame["colour"].value_counts(normalize=True)
    assert dict(zip(cols["colour"]["values"], cols["colour"]["weights"])) == \
        {k: round(float(v), 6) for k, v in share.items()}
    assert cols["flag"] == {"type": "boolean", "p": round(float(frame["flag"].mean()), 6), "dtype": "bool"}
    assert cols["id"]["type"] == "id"
    r = {(a, b): v for a, b, v in recipe["params"]["correlation"]}
    assert r[("x", "y")] == pytest.approx(frame[["x", "y"]].corr(method="spearman").iloc[0, 1], abs=0.03)


def test_same_file_gives_the_same_sample_and_recipe(big_csv, tmp_path):
    path, _ = big_csv
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for out in (first, second):
        done = synth_fit(str(path), "-o", str(out), "--max-rows", "20000", "-q")
        assert done.returncode == 0, done.stderr
    assert first.read_bytes() == second.read_bytes()
    assert "sample of 20,000 rows" in load(first)["description"]


def test_sample_is_uniform_and_does_not_depend_on_chunk_size(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"i": np.arange(30_000), "v": rng.normal(size=30_000)})
    frame.loc[::7, "v"] = np.nan
    frame.to_csv(tmp_path / "t.csv", index=False)
    scans = [scan_table(tmp_path / "t.csv", 3000, chunk_rows=rows) for rows in (1000, 4096, 30_000)]
    for scan in scans[1:]:
        pd.testing.assert_frame_equal(scan.sample, scans[0].sample)
    sample = scans[0].sample
    assert len(sample) == 3000 and scans[0].rows == 30_000 and sample["i"].is_monotonic_increasing
    assert abs(sample["i"].mean() - 15_000) < 3 * 30_000 / np.sqrt(12 * 3000)  # spread over the whole file
    assert scans[0].columns["v"].missing == frame["v"].isna().sum()
    assert scan_table(tmp_path / "t.csv", 3000, seed=1).sample.index.tolist() != sample.index.tolist()
    whole = scan_table(tmp_path / "t.csv", None, chunk_rows=1000)
    assert not whole.sampled and len(whole.sample) == 30_000


def test_integer_column_with_a_gap_in_one_chunk_reads_as_float_everywhere(tmp_path):
    # the gap is in the last chunk only; one whole-file read makes the column float, so must the sample
    values = np.arange(5000, dtype=float) % 2
    values[-1] = np.nan
    pd.DataFrame({"b": values}).to_csv(tmp_path / "t.csv", index=False)
    scan = scan_table(tmp_path / "t.csv", 100, chunk_rows=1000)
    assert scan.sample["b"].dtype.kind == "f"
    assert fit_column(scan.sample["b"], scan.columns["b"]) == \
        fit_column(pd.read_csv(tmp_path / "t.csv")["b"])


def test_summary_of_a_series_matches_its_chunks():
    s = pd.Series([1.5, None, 2.25, 1.5, 7.0, None])
    merged = ColumnSummary()
    for part in (s[:2], s[2:5], s[5:]):
        merged.update(part)
    assert merged == ColumnSummary.of(s)
    assert (merged.rows, merged.missing, merged.lo, merged.hi, merged.decimals) == (6, 2, 1.5, 7.0, 2)


@pytest.mark.parametrize("content, message", [
    (b"name,x\ncaf\xe9,1\nb,2\n", ":2: not UTF-8 text (byte 0xe9)"),
    (b"a,b,a\n1,2,3\n4,5,6\n", ":1: a: column name repeated (columns 1 and 3)"),
])
def test_bad_csv_is_a_clean_error(tmp_path, content, message):
    (tmp_path / "bad.csv").write_bytes(content)
    done = synth_fit(str(tmp_path / "bad.csv"), "-o", str(tmp_path / "r.yaml"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert not (tmp_path / "r.yaml").exists()


def test_file_over_the_size_cap_is_refused(tmp_path):
    import os
    pd.DataFrame({"x": np.arange(5000)}).to_csv(tmp_path / "t.csv", index=False)
    done = synth_fit(str(tmp_path / "t.csv"), "-o", str(tmp_path / "r.yaml"), "--max-bytes", "1K")
    assert done.returncode == 2 and "over the 1.0 KiB limit" in done.stderr and "--max-bytes" in done.stderr
    env = {**os.environ, "SYNTH_MAX_TABLE_BYTES": "2000"}
    done = synth_fit(str(tmp_path / "t.csv"), "-o", str(tmp_path / "r.yaml"), env=env)
    assert done.returncode == 2 and "over the 2.0 KiB limit" in done.stderr and "Traceback" not in done.stderr
    assert synth_fit(str(tmp_path / "t.csv"), "-o", str(tmp_path / "r.yaml"), "--max-bytes", "1M",
                     env=env).returncode == 0  # the option wins over the environment
    with pytest.raises(SynthError, match="positive size"):
        scan_table(tmp_path / "t.csv", max_bytes="lots")


def test_help_says_how_large_tables_are_read():
    done = subprocess.run([sys.executable, "-m", "synth.cli", "fit", "--help"], capture_output=True, text=True)
    assert "--max-rows" in done.stdout and "--max-bytes" in done.stdout and "SYNTH_MAX_TABLE_BYTES" in done.stdout
    assert "sample" in done.stdout and "every row" in done.stdout
