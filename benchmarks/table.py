"""Table twin: fit + sample 1M rows x 20 columns, synth (fit -> recipe -> vectorised copula blocks) vs
copulas' GaussianMultivariate (the engine behind SDV's GaussianCopula), with column-shape and pair-trend scores.
Real data: scikit-learn's breast cancer table (569 rows, offline), first 19 features + the target."""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenes.table import TableParams, TableScene  # noqa: E402
from synth.fit import fit_recipe  # noqa: E402
from synth.report_table import quality_report  # noqa: E402
from synth.seeding import RENDER_STREAM, rng_for  # noqa: E402
from synth.tabular.blocks import decode_block  # noqa: E402

ROWS, BLOCK = 1_000_000, 10_000
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


def real_table(path: Path) -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer
    frame = load_breast_cancer(as_frame=True).frame
    frame = frame[[*frame.columns[:19], "target"]]
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame.to_csv(path, index=False)
    return frame


def ours(path: Path) -> tuple[float, pd.DataFrame]:
    t0 = time.perf_counter()
    recipe = fit_recipe(path, rows_per_sample=BLOCK)
    params = TableParams.model_validate({**recipe["params"], "rows_per_sample": BLOCK})
    scene = TableScene()
    blocks = [decode_block(scene.render(params, rng_for(1, i, RENDER_STREAM)).payloads["table"].encode()[0],
                           "parquet") for i in range(ROWS // BLOCK)]
    frame = pd.concat(blocks, ignore_index=True)
    return time.perf_counter() - t0, frame


def copulas_gm(real: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    from copulas.multivariate import GaussianMultivariate
    t0 = time.perf_counter()
    model = GaussianMultivariate()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(real)
        frame = model.sample(ROWS)
    return time.perf_counter() - t0, frame


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "breast_cancer.csv"
        real = real_table(path)
        rows = []
        for _ in range(RUNS):  # interleaved runs
            t_ours, f_ours = ours(path)
            t_cop, f_cop = copulas_gm(real)
            rows.append((t_ours, t_cop))
        q_ours, q_cop = quality_report(real, f_ours, target="target"), quality_report(real, f_cop.assign(
            target=f_cop["target"].round().clip(0, 1).astype(int)), target="target")  # copulas gives floats
    t_o, t_c = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
    print(f"fit + sample {ROWS:,} rows x {real.shape[1]} columns, median of {RUNS} runs")
    print(f"{'':28s}{'seconds':>10s}{'col shapes':>12s}{'pair trends':>13s}{'TSTR acc':>10s}")
    for name, t, q in (("synth (fit + table scene)", t_o, q_ours), ("copulas GaussianMultivariate", t_c, q_cop)):
        print(f"{name:28s}{t:10.1f}{q['column_shapes']['score']:12.3f}{q['pair_trends']['score']:13.3f}"
              f"{q['ml_efficacy']['train_synthetic']:10.3f}")
    print(f"speed-up: {t_c / t_o:.1f}x  (train-real accuracy {q_ours['ml_efficacy']['train_real']:.3f})")


if __name__ == "__main__":
    main()
