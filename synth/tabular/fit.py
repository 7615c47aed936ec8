"""`synth fit`: read a real table and write a readable table recipe whose marginals (best scipy distribution
by KS statistic; a Gaussian mixture by BIC or empirical quantiles where no one-hump family fits; category
weights for categoricals), copula correlation, datetimes and missing rates reproduce it.

A table of any length is read in chunks: row count, missing rates, numeric ranges and category weights are
exact over every row, while marginals and the copula are fitted on a seeded uniform sample of at most
MAX_SAMPLE_ROWS rows (same file, same sample, same recipe). Files over MAX_TABLE_BYTES are refused."""
from __future__ import annotations

import codecs
import os
import re
import stat
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synth.errors import SynthError, did_you_mean
from synth.tabular.spec import Empirical

CANDIDATES = ("norm", "lognorm", "gamma", "expon", "weibull_min", "beta", "uniform")
KS_GOOD = 0.04      # a one-hump family this close to the data is kept; past it, mixtures and quantiles are tried
EMPIRICAL_KNOTS = 101  # quantiles an empirical marginal records (at most a fifth of the fitted rows)
MAX_FIT_ROWS = 5000  # distribution fitting on a subsample: KS choice is stable and fitting stays fast
MAX_CATEGORIES = 50
MAX_SAMPLE_ROWS = 200_000  # rows kept for marginals and copula; `synth fit --max-rows` changes it
MAX_TABLE_BYTES = ("SYNTH_MAX_TABLE_BYTES", 10 * 1024**3)  # `--max-bytes` or the environment variable raise it
SAMPLE_SEED = 0
CHUNK_BYTES = 8 << 20  # text read per chunk; memory stays near the sample's size whatever the file's
MAX_TRACKED_VALUES = 10_000  # distinct values counted exactly per column; past this it is numeric or an id
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_bytes(text: str, field_name: str = "--max-bytes") -> int:
    """`10G`, `500MB`, `1_000_000`: a positive size in bytes (binary units)."""
    match = re.fullmatch(r"\s*([0-9][0-9_]*)\s*([kmgt]?)(?:i?b)?\s*", str(text), re.IGNORECASE)
    value = int(match.group(1).replace("_", "")) * _UNITS[match.group(2).lower()] if match else 0
    if value <= 0:
        raise SynthError(f"must be a positive size such as 500M or 10G, got {str(text)[:40]!r}", field=field_name)
    return value


def max_table_bytes(override: int | str | None = None) -> int:
    """The input size cap: the override (`--max-bytes`), else SYNTH_MAX_TABLE_BYTES, else 10 GiB."""
    if override is not None:
        return override if isinstance(override, int) and override > 0 else parse_bytes(str(override))
    name, default = MAX_TABLE_BYTES
    raw = os.environ.get(name, "").strip()
    return parse_bytes(raw, name) if raw else default


def _check_file(path: Path, max_bytes: int | str | None) -> None:
    cap = max_table_bytes(max_bytes)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SynthError(f"no such file: {path}", file=str(path)) from None
    except OSError as exc:
        raise SynthError(f"cannot read the table: {exc.strerror}", file=str(path)) from None
    if not stat.S_ISREG(info.st_mode):
        raise SynthError("not a regular file; a table is a .csv or .parquet file", file=str(path))
    if info.st_size > cap:
        raise SynthError(f"the table is {_size(info.st_size)}, over the {_size(cap)} limit; raise it with "
                         f"--max-bytes or {MAX_TABLE_BYTES[0]} (fitting reads a sample, so memory stays bounded)",
                         file=str(path))


def _size(n: int) -> str:
    if n < 1024:
        return f"{n:,} B"
    scaled, unit = float(n), "B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        scaled /= 1024
        if scaled < 1024:
            break
    return f"{scaled:.1f} {unit}"


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _check_names(path: Path, names: list[Any], line: int | None = None) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(map(str, names), start=1):
        if name in seen:
            what = "column name repeated" if name else "two columns have no name"
            raise SynthError(f"{what} (columns {seen[name]} and {i}); column names must be unique",
                             file=str(path), line=line, field=name or None)
        seen[name] = i


def _translate(path: Path, exc: Exception) -> SynthError:
    """A reader's exception as a message the user can act on (never the raw parser traceback)."""
    if isinstance(exc, UnicodeDecodeError):
        line, bad = _first_bad_utf8(path) or (None, exc.object[exc.start])
        return SynthError(f"not UTF-8 text (byte 0x{bad:02x}); save the file as UTF-8, e.g. with "
                          f"`iconv -f latin1 -t utf-8`", file=str(path), line=line)
    if isinstance(exc, pd.errors.EmptyDataError):
        return SynthError("cannot read the table: the file is empty (no header, no rows)", file=str(path))
    message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return SynthError(f"cannot read the table: {message}", file=str(path))


def _first_bad_utf8(path: Path) -> tuple[int, int] | None:
    """The line and value of the file's first byte that is not UTF-8 (a second pass, only on error)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                # exc.object may start with a character left unfinished by the previous block: no newline
                return line + exc.object[:exc.start].count(b"\n"), exc.object[exc.start]
            line += block.count(b"\n")
    return None


def _chunk_rows(path: Path) -> int:
    """Rows per chunk so one chunk holds about CHUNK_BYTES of text, whatever the width of a row. Only a
    guess: a file it cannot read is reported by `_chunks`, which reads it next."""
    try:
        if _is_parquet(path):
            import pyarrow.parquet as pq
            meta = pq.ParquetFile(path).metadata
            size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
            per_row = size / max(meta.num_rows, 1)
        else:
            with open(path, "rb") as fh:
                head = fh.read(1 << 20)
            per_row = len(head) / max(head.count(b"\n"), 1)
    except (ValueError, OSError):
        per_row = 100.0
    return int(np.clip(CHUNK_BYTES / max(per_row, 1.0), 1000, 200_000))


def _chunks(path: Path, chunk_rows: int | None) -> Iterator[pd.DataFrame]:
    """The table in chunks of rows (one piece when `chunk_rows` is None), after its column names are
    checked; parser errors become SynthError."""
    try:
        if _is_parquet(path):
            import pyarrow as pa
            import pyarrow.parquet as pq
            parquet = pq.ParquetFile(path)
            _check_names(path, parquet.schema_arrow.names)
            if chunk_rows is None:
                yield parquet.read().to_pandas()
                return
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                yield pa.Table.from_batches([batch]).to_pandas()
            return
        # the raw header: read_csv renames a repeated name to `name.1` without a word
        header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, encoding="utf-8")
        _check_names(path, header.iloc[0].tolist() if len(header) else [], line=1)
        if chunk_rows is None:
            yield pd.read_csv(path, encoding="utf-8")
            return
        with pd.read_csv(path, chunksize=chunk_rows, encoding="utf-8") as reader:
            yield from reader
    except SynthError:
        raise
    except (ValueError, OSError, pd.errors.ParserError) as exc:  # UnicodeDecodeError and ArrowInvalid included
        raise _translate(path, exc) from None


@dataclass
class ColumnSummary:
    """Exact statistics of one column over every row, updated chunk by chunk in constant memory."""

    rows: int = 0
    missing: int = 0
    kinds: set[str] = field(default_factory=set)  # numpy dtype kinds the chunks were read as
    counts: Counter | None = field(default_factory=Counter)  # None once past MAX_TRACKED_VALUES
    lo: float = np.inf
    hi: float = -np.inf
    decimals: int | None = 0

    @classmethod
    def of(cls, series: pd.Series) -> ColumnSummary:
        summary = cls()
        summary.update(series)
        return summary

    def update(self, series: pd.Series) -> None:
        present = series.dropna()
        self.rows += len(series)
        self.missing += len(series) - len(present)
        self.kinds.add(series.dtype.kind)
        if series.dtype.kind in "iuf" and len(present):
            values = present.to_numpy(dtype=float)
            self.lo, self.hi = min(self.lo, float(values.min())), max(self.hi, float(values.max()))
            if self.decimals is not None:
                d = _decimals(values)
                self.decimals = None if d is None else max(self.decimals, d)
        if self.counts is not None:
            counted = present.value_counts(sort=False)
            if len(counted) > MAX_TRACKED_VALUES:  # drop before merging: a float column's first chunk is all new
                self.counts = None
                return
            self.counts.update(dict(zip(counted.index.tolist(), counted.to_numpy().tolist())))
            if len(self.counts) > MAX_TRACKED_VALUES:
                self.counts = None

    @property
    def distinct(self) -> int:
        return len(self.counts) if self.counts is not None else MAX_TRACKED_VALUES + 1


@dataclass
class TableScan:
    """What one pass over a table leaves: a uniform sample in file order, and exact per-column summaries."""

    sample: pd.DataFrame
    rows: int
    columns: dict[str, ColumnSummary]

    @property
    def sampled(self) -> bool:
        return len(self.sample) < self.rows


class HoldoutWriter:
    """Held-out rows written as they are read, to a temporary file renamed into place by `close` (and removed
    by `abort`): a failed fit leaves no half-written holdout. CSV or Parquet, as the name ends."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp")
        self.rows, self._parquet, self._csv = 0, None, None

    def write(self, chunk: pd.DataFrame) -> None:
        if _is_parquet(self.path):
            import pyarrow as pa
            import pyarrow.parquet as pq
            if self._parquet is None:
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                self._parquet = pq.ParquetWriter(self.tmp, table.schema)
            else:
                table = pa.Table.from_pandas(chunk, schema=self._parquet.schema.to_arrow_schema(),
                                             preserve_index=False)
            self._parquet.write_table(table)
        else:
            if self._csv is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._csv = open(self.tmp, "w", encoding="utf-8", newline="")
            chunk.to_csv(self._csv, index=False, header=self.rows == 0)
        self.rows += len(chunk)

    def close(self) -> None:
        for handle in (self._parquet, self._csv):
            if handle is not None:
                handle.close()
        if self.rows == 0:
            self.abort()
            raise SynthError("the holdout fraction held out no row; raise --holdout-fraction", field="--holdout-fraction")
        self.tmp.replace(self.path)

    def abort(self) -> None:
        for handle in (self._parquet, self._csv):
            if handle is not None:
                handle.close()
        self.tmp.unlink(missing_ok=True)


def holdout_path(recipe_out: str | Path, real: str | Path) -> Path:
    """Where `synth fit --holdout-fraction` writes the held-out rows: beside the recipe, in the real's format."""
    out = Path(recipe_out)
    return out.with_name(f"{out.stem}.holdout{'.parquet' if _is_parquet(Path(real)) else '.csv'}")


def scan_table(path: str | Path, max_rows: int | None = MAX_SAMPLE_ROWS, *, max_bytes: int | str | None = None,
               seed: int = SAMPLE_SEED, chunk_rows: int | None = None, holdout_fraction: float = 0.0,
               holdout: HoldoutWriter | None = None) -> TableScan:
    """Read a CSV or Parquet table once, in chunks, keeping a uniform sample of at most `max_rows` rows
    (all rows when None). Each row draws a key from a generator seeded with `seed`, in file order, and the
    rows with the smallest keys are kept: the sample depends on the file and the seed, not on chunk size.
    With `holdout_fraction`, each row is held out with that chance (its own seeded stream, in file order):
    held-out rows go to `holdout` and count nowhere in the fit."""
    path = Path(path)
    _check_file(path, max_bytes)
    if not 0 <= holdout_fraction < 1:
        raise SynthError(f"must be in [0, 1), got {holdout_fraction}", field="--holdout-fraction")
    rng = np.random.default_rng(seed)
    hold_rng = np.random.default_rng([seed, 1])
    summaries: dict[str, ColumnSummary] = {}
    pieces: list[pd.DataFrame] = []
    keys: list[np.ndarray] = []
    held, rows, threshold = 0, 0, np.inf
    for chunk in _chunks(path, chunk_rows or _chunk_rows(path)):
        chunk.columns = [str(c) for c in chunk.columns]
        if holdout_fraction > 0:
            out = hold_rng.random(len(chunk)) < holdout_fraction
            if holdout is not None and out.any():
                holdout.write(chunk[out])
            chunk = chunk[~out]
        chunk.index = pd.RangeIndex(rows, rows + len(chunk))  # file order, to sort the sample back into
        rows += len(chunk)
        for name in chunk.columns:
            summaries.setdefault(name, ColumnSummary()).update(chunk[name])
        drawn = rng.random(len(chunk))
        take = drawn < threshold
        if take.any():
            pieces.append(chunk[take] if not take.all() else chunk)
            keys.append(drawn[take])
            held += int(take.sum())
        if max_rows is not None and held > 2 * max_rows:  # prune now and then, not per chunk
            pieces, keys, threshold = _smallest(pieces, keys, max_rows)
            held = max_rows
    if not pieces:
        raise SynthError("the table has no rows; fitting needs at least 2", file=str(path))
    if max_rows is not None and held > max_rows:
        pieces, keys, _ = _smallest(pieces, keys, max_rows)
    sample = _concat(pieces).sort_index()
    return TableScan(sample=_unify(sample, summaries), rows=rows, columns=summaries)


def _concat(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    if len(pieces) == 1:
        return pieces[0]
    with warnings.catch_warnings():  # all-NA pieces of a column: pandas warns that it will keep their dtype
        warnings.simplefilter("ignore", FutureWarning)
        return pd.concat(pieces)


def _smallest(pieces: list[pd.DataFrame], keys: list[np.ndarray],
              k: int) -> tuple[list[pd.DataFrame], list[np.ndarray], float]:
    frame, drawn = _concat(pieces), np.concatenate(keys)
    keep = np.argpartition(drawn, k - 1)[:k]
    return [frame.iloc[keep]], [drawn[keep]], float(drawn[keep].max())


def _unify(sample: pd.DataFrame, summaries: dict[str, ColumnSummary]) -> pd.DataFrame:
    """Give each sampled column the dtype one read of the whole file gives: a column of integers that has
    a gap anywhere is float, even when the sampled rows came only from chunks without one."""
    for name, summary in summaries.items():
        if summary.kinds == {"i", "f"}:
            sample[name] = sample[name].astype(float)
        elif len(summary.kinds) > 1 and "O" in summary.kinds:
            sample[name] = sample[name].astype(object)
    return sample


def read_table(path: str | Path, max_bytes: int | str | None = None) -> pd.DataFrame:
    """The whole table (for the quality report), with the same checks and errors as `scan_table`."""
    path = Path(path)
    _check_file(path, max_bytes)
    frames = list(_chunks(path, None))
    frame = frames[0] if frames else pd.DataFrame()
    if frame.empty or len(frame.columns) == 0:
        raise SynthError("the table has no rows; fitting needs at least 2", file=str(path))
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if empty:
        raise SynthError(f"column '{empty[0]}' is all nulls: nothing to fit; drop it or fill it", file=str(path),
                         field=str(empty[0]))
    return frame


def fit_numeric(values: np.ndarray, lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    """The candidate scipy distribution with the smallest KS statistic, and its parameters. `lo` and `hi`
    are the column's range over the whole file when `values` is a sample of it."""
    sample = values if len(values) <= MAX_FIT_ROWS else np.random.default_rng(0).choice(values, MAX_FIT_ROWS,
                                                                                         replace=False)
    lo = float(values.min()) if lo is None else lo
    hi = float(values.max()) if hi is None else hi
    best: tuple[float, str, dict[str, float]] | None = None
    for name in CANDIDATES:
        family = getattr(stats, name)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if name == "beta":  # beta lives on [loc, loc+scale]: pin it just outside the data's range
                    pad = (hi - lo) * 1e-3 + 1e-9
                    args = family.fit(sample, floc=lo - pad, fscale=hi - lo + 2 * pad)
                elif name == "uniform":
                    args = (lo, hi - lo)
                else:
                    args = family.fit(sample)
                ks = stats.kstest(sample, family(*args).cdf).statistic
        except (ValueError, RuntimeError, FloatingPointError):
            continue
        if np.isfinite(ks) and (best is None or ks < best[0]):
            names = [*(family.shapes.split(", ") if family.shapes else []), "loc", "scale"]
            best = (float(ks), name, {k: float(round(v, 6)) for k, v in zip(names, args)})
    if best is None:
        return {"dist": "norm", "params": {"loc": float(values.mean()), "scale": float(values.std() or 1.0)}}
    fitted = {"dist": best[1], "params": best[2], "ks": round(best[0], 4)}
    # no one-hump family fits (KS well past sampling noise): a mixture of normals, its size by BIC; if that
    # still does not fit, the empirical quantiles
    floor = max(KS_GOOD, 1.5 / np.sqrt(len(sample)))
    if best[0] > floor:
        mixture = fit_mixture(sample)
        if mixture is not None and mixture["ks"] < best[0]:
            fitted = mixture
        if fitted["ks"] > floor and len(sample) >= 50:
            knots = int(min(EMPIRICAL_KNOTS, len(sample) // 5))
            q = np.round(np.quantile(sample, np.linspace(0, 1, knots)), 6)
            q[0], q[-1] = lo, hi  # rounding must not make them cross: ascending, inside the range
            quantiles = [float(v) for v in np.clip(np.maximum.accumulate(q), lo, hi)]
            ks = stats.kstest(sample, Empirical(quantiles).cdf).statistic
            fitted = {"dist": "empirical", "params": {}, "quantiles": quantiles, "ks": round(float(ks), 4)}
    return fitted


def fit_mixture(sample: np.ndarray, max_components: int = 4, seed: int = 0) -> dict[str, Any] | None:
    """A Gaussian mixture of 2..max_components normals, the count chosen by BIC (scikit-learn, seeded)."""
    from sklearn.mixture import GaussianMixture
    x = sample.reshape(-1, 1)
    best: tuple[float, Any] | None = None
    for k in range(2, max_components + 1):
        if len(sample) < 10 * k:
            break
        with warnings.catch_warnings():  # few distinct values: sklearn warns, BIC then prefers fewer components
            warnings.simplefilter("ignore")
            gm = GaussianMixture(k, random_state=seed, n_init=2, reg_covar=1e-6 * float(np.var(sample) or 1)).fit(x)
        bic = gm.bic(x)
        if best is None or bic < best[0]:
            best = (bic, gm)
    if best is None:
        return None
    gm = best[1]
    order = np.argsort(gm.means_[:, 0])
    components = [{"weight": float(round(gm.weights_[i], 6)), "loc": float(round(gm.means_[i, 0], 6)),
                   "scale": float(round(np.sqrt(gm.covariances_[i].ravel()[0]), 6))} for i in order]
    w = np.array([c["weight"] for c in components])
    locs, scales = np.array([c["loc"] for c in components]), np.array([c["scale"] for c in components])
    ks = stats.kstest(sample, lambda v: (stats.norm.cdf((np.asarray(v)[:, None] - locs) / scales) * w).sum(1)
                      / w.sum()).statistic
    return {"dist": "mixture", "params": {}, "components": components, "ks": round(float(ks), 4)}


def _decimals(values: np.ndarray) -> int | None:
    for d in range(0, 7):
        if np.allclose(values, np.round(values, d), atol=1e-9, rtol=0):
            return d
    return None


def fit_column(series: pd.Series, summary: ColumnSummary | None = None) -> dict[str, Any]:
    """The spec of one column. `series` is the column (or a sample of it); `summary` holds its exact
    whole-file statistics, from which missing rate, range, rounding and category weights are taken."""
    summary = summary or ColumnSummary.of(series)
    s = series.dropna()
    counts = summary.counts
    spec: dict[str, Any]
    if pd.api.types.is_bool_dtype(s) or (pd.api.types.is_integer_dtype(s) and counts is not None
                                          and set(counts) <= {0, 1} and len(counts) == 2):
        spec = {"type": "boolean", "p": round(_true_share(s, counts), 6)}
    elif pd.api.types.is_numeric_dtype(s) and summary.distinct > 15:
        values = s.to_numpy(dtype=float)
        lo, hi = (summary.lo, summary.hi) if np.isfinite(summary.lo) else (float(values.min()), float(values.max()))
        fitted = fit_numeric(values, lo, hi)
        spec = {"type": "numeric", "dist": fitted["dist"], "params": fitted["params"],
                **{k: fitted[k] for k in ("components", "quantiles") if k in fitted}, "min": lo, "max": hi}
        if summary.decimals is not None:
            spec["round"] = summary.decimals
    elif pd.api.types.is_datetime64_any_dtype(s) or (_is_text(s) and _looks_like_dates(s)):
        spec = _fit_datetime(pd.to_datetime(s, errors="coerce").dropna())
    else:
        present = summary.rows - summary.missing
        if counts is None:  # too many values to count exactly: the sample decides
            if s.nunique() > 0.5 * len(s):
                spec = {"type": "id", "digits": 16}
            else:
                spec = _categorical(s.value_counts(normalize=True, sort=False).to_dict())
        elif len(counts) > MAX_CATEGORIES and len(counts) > 0.5 * present:
            spec = {"type": "id", "digits": 16}  # high-cardinality text: an identifier, not a category
        else:
            spec = _categorical({v: c / present for v, c in counts.items()})
    rate = summary.missing / summary.rows if summary.rows else 0.0
    if rate > 0:
        spec["missing"] = round(rate, 6)
    if isinstance(series.dtype, pd.CategoricalDtype) and spec["type"] == "categorical":
        order = {v: i for i, v in enumerate(series.cat.categories.tolist())}  # the table's own category order
        pairs = sorted(zip(spec["values"], spec["weights"]), key=lambda p: order.get(p[0], len(order)))
        spec["values"], spec["weights"] = [v for v, _ in pairs], [w for _, w in pairs]
    if spec["type"] == "datetime" and not pd.api.types.is_datetime64_any_dtype(series):
        fmt = _date_format(s)
        if fmt is not None:
            spec["format"] = fmt
    spec["dtype"] = str(series.dtype)
    return spec


DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
                "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d")


def _date_format(s: pd.Series) -> str | None:
    """The strftime format that writes the column's dates back exactly as the table spells them, if one does."""
    head = s.astype(str).head(500)
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(head, format=fmt, errors="coerce")
        if parsed.notna().all() and (parsed.dt.strftime(fmt) == head).all():
            return fmt
    return None


def _true_share(s: pd.Series, counts: Counter | None) -> float:
    if counts is None or not counts:
        return float(s.astype(bool).mean())
    return sum(c for v, c in counts.items() if bool(v)) / sum(counts.values())


def _categorical(weights: dict[Any, float]) -> dict[str, Any]:
    order = sorted(weights, key=_sort_key)
    return {"type": "categorical", "values": [_plain(v) for v in order],
            "weights": [round(float(weights[v]), 6) for v in order]}


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, (int, float, np.number)) else (1, str(v))


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _looks_like_dates(s: pd.Series) -> bool:
    head = s.astype(str).head(200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(head, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.95 and head.str.contains(r"\d{4}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}").mean() > 0.95)


def _fit_datetime(d: pd.Series) -> dict[str, Any]:
    months = d.dt.month.value_counts().reindex(range(1, 13), fill_value=0).to_numpy(dtype=float)
    weekdays = d.dt.day_of_week.value_counts().reindex(range(7), fill_value=0).to_numpy(dtype=float)
    spec = {"type": "datetime", "start": d.min().date().isoformat(), "end": d.max().date().isoformat(),
            "month_weights": [round(float(x / max(months.sum(), 1)), 6) for x in months],
            "weekday_weights": [round(float(x / max(weekdays.sum(), 1)), 6) for x in weekdays],
            "time_of_day": bool((d.dt.normalize() != d).any())}
    return spec


def normal_scores(series: pd.Series, spec: dict[str, Any]) -> np.ndarray:
    """Each value's position under its fitted marginal, as a standard normal score (NaN where missing)."""
    out = np.full(len(series), np.nan)
    ok = series.notna().to_numpy()
    s = series[ok]
    if spec["type"] in ("numeric", "datetime"):
        values = s.to_numpy(dtype=float) if spec["type"] == "numeric" else \
            pd.to_datetime(s, errors="coerce").astype("int64").to_numpy(dtype=float)
        ranks = stats.rankdata(values)  # ranks: the copula sees only the order, whatever the marginal
        out[ok] = stats.norm.ppf(ranks / (len(ranks) + 1))
    elif spec["type"] == "boolean":
        p = spec["p"]
        u = np.where(s.astype(bool).to_numpy(), 1 - p / 2, (1 - p) / 2)  # mid-point of each interval
        out[ok] = stats.norm.ppf(u)
    elif spec["type"] == "categorical":
        w = np.asarray(spec["weights"]) / sum(spec["weights"])
        mids = dict(zip(spec["values"], np.cumsum(w) - w / 2))
        out[ok] = stats.norm.ppf(np.clip(s.map(lambda v: mids.get(_plain(v), 0.5)).to_numpy(dtype=float),
                                         1e-6, 1 - 1e-6))
    return out


def fit_correlation(frame: pd.DataFrame, specs: dict[str, dict[str, Any]], noise: float = 0.0,
                    seed: int = SAMPLE_SEED) -> list[list[Any]]:
    """Copula correlation of the normal scores; with `noise`, Gaussian noise of that std is added to every
    correlation (seeded) before the matrix is made positive definite again."""
    names = [n for n, s in specs.items() if s["type"] in ("numeric", "categorical", "boolean", "datetime")]
    if len(names) < 2:
        return []
    z = pd.DataFrame({n: normal_scores(frame[n], specs[n]) for n in names})
    r = z.corr().fillna(0.0).to_numpy().copy()
    if noise > 0:
        upper = np.triu(np.random.default_rng(seed).normal(0.0, noise, r.shape), 1)
        r = np.clip(r + upper + upper.T, -0.99, 0.99)
    np.fill_diagonal(r, 1.0)
    r = nearest_correlation(np.round(r, 3))
    # the recipe keeps pairs of |r| >= 0.01 to 4 decimals: where that leaves the matrix indefinite (many small
    # correlations, e.g. after noise), shrink toward the identity until the written pairs hold together
    for shrink in (0.0, 0.01, 0.03, 0.1, 0.3, 1.0):
        pairs = _written_pairs((1 - shrink) * r + shrink * np.eye(len(r)), names)
        written = np.eye(len(r))
        at = {n: i for i, n in enumerate(names)}
        for a, b, v in pairs:
            written[at[a], at[b]] = written[at[b], at[a]] = v
        if np.linalg.eigvalsh(written).min() >= 1e-6:
            break
    return pairs


def _written_pairs(r: np.ndarray, names: list[str]) -> list[list[Any]]:
    return [[names[i], names[j], float(round(r[i, j], 4))] for i in range(len(names))
            for j in range(i + 1, len(names)) if abs(r[i, j]) >= 0.01]


def nearest_correlation(r: np.ndarray) -> np.ndarray:
    """Clip negative eigenvalues (pairwise-complete estimates and rounding can leave some) and rescale."""
    w, v = np.linalg.eigh(r)
    if w.min() >= 1e-6:
        return r
    fixed = (v * np.clip(w, 1e-4, None)) @ v.T
    d = np.sqrt(np.diag(fixed))
    fixed = fixed / np.outer(d, d)
    return np.round(fixed, 4) * 0.999 + np.eye(len(r)) * 0.001  # shrink a hair: stays PSD after rounding


NONPARAMETRIC = ("mixture", "empirical")  # marginals without loc/scale for a tune: block
PRIVACY_DEFAULTS = {"clip_quantile": 0.01, "correlation_noise": 0.05, "min_category_count": 10, "smoothing": 0.3}
OTHER = "other"  # the category rare text categories are merged into


def fit_recipe(path: str | Path, name: str | None = None, rows_per_sample: int = 10_000,
               target: str | None = None, *, max_rows: int = MAX_SAMPLE_ROWS, max_bytes: int | str | None = None,
               seed: int = SAMPLE_SEED, privacy: dict[str, Any] | None = None, tune: int = 0) -> dict[str, Any]:
    """A table recipe fitted to the CSV or Parquet file at `path`, read in one streaming pass."""
    return recipe_from_scan(scan_table(path, max_rows, max_bytes=max_bytes, seed=seed), path, name,
                            rows_per_sample, target, privacy=privacy, tune=tune)


def privacy_settings(on: bool, clip_quantile: float | None = None, correlation_noise: float | None = None,
                     min_category_count: int | None = None, smoothing: float | None = None) -> dict[str, Any] | None:
    """`--privacy` turns every option on at its default; an option given alone turns on that one."""
    given = {"clip_quantile": clip_quantile, "correlation_noise": correlation_noise,
             "min_category_count": min_category_count, "smoothing": smoothing}
    settings = {**(PRIVACY_DEFAULTS if on else {}), **{k: v for k, v in given.items() if v is not None}}
    if settings.get("clip_quantile") is not None and not 0 <= settings["clip_quantile"] < 0.5:
        raise SynthError("must be in [0, 0.5)", field="--clip-quantile")
    if settings.get("correlation_noise") is not None and not 0 <= settings["correlation_noise"] <= 1:
        raise SynthError("must be in [0, 1]", field="--correlation-noise")
    if settings.get("smoothing") is not None and not 0 <= settings["smoothing"] <= 1:
        raise SynthError("must be in [0, 1]", field="--smoothing")
    if settings.get("min_category_count") is not None and settings["min_category_count"] < 1:
        raise SynthError("must be at least 1", field="--min-category-count")
    return settings or None


def _clip_tails(spec: dict[str, Any], series: pd.Series, q: float) -> None:
    """Cut a numeric or date column's range to its q and 1-q quantiles: its extremes are never drawn."""
    s = series.dropna()
    if q <= 0 or len(s) < 2:
        return
    if spec["type"] == "numeric":
        lo, hi = np.quantile(s.to_numpy(dtype=float), [q, 1 - q])
        if spec.get("round") is not None:
            lo, hi = round(float(lo), spec["round"]), round(float(hi), spec["round"])
        if hi > lo:
            spec["min"], spec["max"] = float(lo), float(hi)
    elif spec["type"] == "datetime":
        days = pd.to_datetime(s, errors="coerce", format="mixed").dropna().dt.normalize()
        if len(days):
            lo, hi = days.quantile([q, 1 - q])
            spec["start"], spec["end"] = lo.date().isoformat(), hi.date().isoformat()


def _smooth(frame: pd.DataFrame, specs: dict[str, dict[str, Any]], s: float, target: str | None,
            seed: int) -> pd.DataFrame:
    """Input perturbation: every continuous column (not the target) gets seeded Gaussian noise of s times its
    std, and its marginal and the copula are fitted on the noised values (kept inside the column's range), so
    the twin draws from a kernel-smoothed distribution instead of piling onto the training values."""
    rng = np.random.default_rng(seed + 1)
    frame = frame.copy()
    for c, spec in specs.items():
        if spec["type"] != "numeric" or c == target:
            continue
        ok = frame[c].notna().to_numpy()
        values = frame[c].to_numpy(dtype=float)[ok]
        if len(values) < 2:
            continue
        noised = np.clip(values + rng.normal(0.0, s * float(values.std()), len(values)), spec["min"], spec["max"])
        fitted = fit_numeric(noised, spec["min"], spec["max"])
        for k in ("components", "quantiles"):
            spec.pop(k, None)
        spec.update({"dist": fitted["dist"], "params": fitted["params"],
                     **{k: fitted[k] for k in ("components", "quantiles") if k in fitted}})
        column = frame[c].astype(float)
        column[ok] = noised
        frame[c] = column
    return frame


def _merge_rare(spec: dict[str, Any], present: int, k: int) -> None:
    """Categories seen fewer than k times: text ones merged into 'other', numeric ones dropped."""
    counts = [w * present for w in spec["weights"]]
    rare = [i for i, c in enumerate(counts) if c < k - 1e-6]
    if not rare:
        return
    keep = [i for i in range(len(counts)) if i not in rare] or [int(np.argmax(counts))]
    values = [spec["values"][i] for i in keep]
    weights = [spec["weights"][i] for i in keep]
    merged = sum(spec["weights"][i] for i in rare if i not in keep)
    if merged > 0 and all(isinstance(spec["values"][i], str) for i in rare):
        if OTHER in values:
            weights[values.index(OTHER)] += merged
        else:
            values.append(OTHER)
            weights.append(merged)
    total = sum(weights)
    spec["values"], spec["weights"] = values, [round(w / total, 6) for w in weights]


def recipe_from_scan(scan: TableScan, path: str | Path, name: str | None = None, rows_per_sample: int = 10_000,
                     target: str | None = None, *, privacy: dict[str, Any] | None = None,
                     tune: int = 0) -> dict[str, Any]:
    """The recipe for a scanned table; `tune` > 0 adds a `tune:` block over that many marginals (`tune_block`)."""
    frame, rows = scan.sample, scan.rows
    if rows < 2:
        raise SynthError("the table has 1 row; fitting needs at least 2", file=str(path))
    empty = [c for c, summary in scan.columns.items() if summary.missing == summary.rows]
    if empty:
        raise SynthError(f"column '{empty[0]}' is all nulls: nothing to fit; drop it or fill it", file=str(path),
                         field=str(empty[0]))
    if target is not None and target not in frame.columns:
        raise SynthError(f"target '{target}' is not a column of {Path(path).name}{did_you_mean(target, frame.columns)}"
                         f"; columns: {', '.join(map(str, frame.columns))}", file=str(path), field="--target")
    specs = {c: fit_column(frame[c], scan.columns[c]) for c in frame.columns}
    privacy = dict(privacy or {})
    seed = privacy.setdefault("seed", SAMPLE_SEED)
    if privacy.get("smoothing"):
        frame = _smooth(frame, specs, float(privacy["smoothing"]), target, seed)
    correlation = fit_correlation(frame, specs, noise=privacy.get("correlation_noise") or 0.0,
                                  seed=seed)
    for c, spec in specs.items():
        if privacy.get("clip_quantile"):
            _clip_tails(spec, frame[c], privacy["clip_quantile"])
        if privacy.get("min_category_count") and spec["type"] == "categorical" and c != target:
            _merge_rare(spec, scan.columns[c].rows - scan.columns[c].missing, int(privacy["min_category_count"]))
    count = max(1, int(np.ceil(rows / rows_per_sample)))
    sampled = (f" Fitted on a seeded uniform sample of {len(frame):,} rows; missing rates, ranges and category "
               f"weights count every row.") if scan.sampled else ""
    recipe: dict[str, Any] = {
        "name": name or Path(path).stem.replace("-", "_") + "_twin",
        "description": f"Twin of {Path(path).name} ({rows} rows x {len(frame.columns)} columns), fitted by "
                       f"synth fit: marginals by KS among {', '.join(CANDIDATES)}; Gaussian copula correlation."
                       + sampled,
        "scene": "table",
        "count": count,
        "seed": 1,
        "params": {"rows_per_sample": min(rows_per_sample, rows), "columns": specs, "correlation": correlation},
    }
    if len(privacy) > 1:  # more than the seed: some option was on
        recipe["params"]["privacy"] = privacy
        recipe["description"] += " Privacy options: " + ", ".join(f"{k} {v}" for k, v in privacy.items()) + "."
    if target is not None:  # the column stays in the copula; the recipe names it as the label to predict
        recipe["params"]["target"] = {"name": target}
    if tune > 0:
        block = tune_block(specs, frame, tune, target)
        if block:
            recipe["tune"] = block
    return recipe


def tune_block(specs: dict[str, dict[str, Any]], frame: pd.DataFrame, k: int, target: str | None = None,
               shift: float = 0.2, stretch: float = 1.33) -> dict[str, list[float]]:
    """A `tune:` block for `synth tune`: the `loc` and `scale` of the k parametric numeric marginals that fit
    worst (largest KS statistic against the fitted rows), each `loc` within +-`shift` column stds and each
    `scale` within [1/stretch, stretch] times its fitted value. Mixture and empirical marginals, the target
    and columns whose names hold a '.' (a tune path separator) are left out."""
    ranked = []
    for c, spec in specs.items():
        if spec["type"] != "numeric" or spec["dist"] in NONPARAMETRIC or c == target or "." in str(c):
            continue
        values = frame[c].dropna().to_numpy(dtype=float)
        if len(values) < 2 or "scale" not in spec["params"]:
            continue
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                ks = float(stats.kstest(values, getattr(stats, spec["dist"])(**spec["params"]).cdf).statistic)
        except (ValueError, TypeError, AttributeError):
            continue
        ranked.append((-ks if np.isfinite(ks) else 0.0, str(c), float(values.std())))
    block: dict[str, list[float]] = {}
    for _, c, sd in sorted(ranked)[:max(0, k)]:
        loc, scale = specs[c]["params"].get("loc", 0.0), specs[c]["params"]["scale"]
        block[f"columns.{c}.params.loc"] = [round(loc - shift * sd, 6), round(loc + shift * sd, 6)]
        block[f"columns.{c}.params.scale"] = [round(scale / stretch, 6), round(scale * stretch, 6)]
    return block


def write_recipe(recipe: dict[str, Any], out: str | Path) -> None:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    def flow(obj: Any, depth: int) -> Any:
        # columns one per line as flow mappings, so a 20-column recipe stays readable and editable
        if isinstance(obj, dict):
            m = CommentedMap((k, flow(v, depth + 1)) for k, v in obj.items())
            if depth >= 3:
                m.fa.set_flow_style()
            return m
        if isinstance(obj, list):
            seq = CommentedSeq(flow(v, depth + 1) for v in obj)
            if depth >= 3 or all(not isinstance(v, (dict, list)) for v in obj):
                seq.fa.set_flow_style()
            return seq
        return obj

    yaml = YAML()
    yaml.width = 4096
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as fh:
        yaml.dump(flow(recipe, 0), fh)


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s)
