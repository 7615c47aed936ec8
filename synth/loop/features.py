"""Deterministic, offline feature extractors per modality (scikit-learn style: parameters in `__init__`,
`fit`, `transform`, `get_feature_names_out`), and the reader for a user's own embeddings.

Nothing here downloads a model: every feature is a documented function of the sample alone (tables:
of the sample and the column vocabulary learnt in `fit`), so the same data always gives the same
matrix and a gap measured today can be compared with one measured next month."""
from __future__ import annotations

import math
import string
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from synth.errors import SynthError

MAX_EMBEDDING_BYTES = 2_000_000_000
"""Largest embeddings file `load_embeddings` reads (bytes)."""


class _Extractor:
    feature_names_: list[str]

    def fit(self, X: Sequence[Any], y: Any = None) -> _Extractor:
        self.feature_names_ = self._names()
        return self

    def fit_transform(self, X: Sequence[Any], y: Any = None) -> np.ndarray:
        return self.fit(X, y).transform(X)

    def get_feature_names_out(self) -> np.ndarray:
        return np.asarray(self.feature_names_, dtype=object)

    def _names(self) -> list[str]:
        raise NotImplementedError

    def transform(self, X: Sequence[Any]) -> np.ndarray:
        if not hasattr(self, "feature_names_"):
            self.fit(X)
        rows = [self._one(x) for x in X]
        if not rows:
            return np.zeros((0, len(self.feature_names_)))
        return np.vstack(rows).astype(np.float64)

    def _one(self, x: Any) -> np.ndarray:
        raise NotImplementedError


# -- images -----------------------------------------------------------------------------------------

class ImageFeatures(_Extractor):
    """Features of an image (H x W grey, RGB or RGBA uint8), compared at a common scale:

    - `pixel_r{i}_c{j}`: the grey image resized (area average) to `size` x `size`, in [0, 1];
    - `hog_{k}`: HOG (skimage, L2-Hys blocks of 2x2 cells) of the grey image resized to `hog_size`;
    - colour and intensity: per-channel mean/std, grey mean/std/percentiles, contrast (p95 - p5),
      saturation mean, log aspect ratio (absolute size is not a feature: most pipelines resize);
    - `edge_density`: fraction of Canny edge pixels, `gradient_mean`: mean Sobel magnitude,
      `laplacian_std`: spread of the Laplacian (high for noise and sharp detail, low for blur);
    - ink/stroke: the background is the median of the border pixels, ink is what differs from it by more
      than an Otsu threshold (at least `min_ink_contrast`): ink fraction, polarity (+1 light ink on dark),
      ink contrast, mean stroke thickness (twice the distance transform on the ink skeleton, as a fraction
      of the short side), connected components, and the ink bounding box's fill, log aspect, area and centre.
    Ink statistics are measured with the short side scaled to `ink_size` pixels."""

    def __init__(self, size: int = 16, hog_size: int = 32, hog_cell: int = 8, hog_orientations: int = 9,
                 ink_size: int = 64, min_ink_contrast: float = 0.1) -> None:
        self.size = size
        self.hog_size = hog_size
        self.hog_cell = hog_cell
        self.hog_orientations = hog_orientations
        self.ink_size = ink_size
        self.min_ink_contrast = min_ink_contrast

    STATS = ("mean_r", "mean_g", "mean_b", "std_r", "std_g", "std_b", "grey_mean", "grey_std", "grey_p5",
             "grey_p50", "grey_p95", "contrast", "saturation_mean", "log_aspect", "edge_density", "gradient_mean", "laplacian_std",
             "ink_fraction", "ink_polarity", "ink_contrast", "stroke_thickness", "ink_components", "bbox_fill",
             "bbox_log_aspect", "bbox_area", "ink_centre_x", "ink_centre_y")

    def _names(self) -> list[str]:
        pixels = [f"pixel_r{i}_c{j}" for i in range(self.size) for j in range(self.size)]
        return pixels + [f"hog_{k}" for k in range(self._hog_len())] + list(self.STATS)

    def _hog_len(self) -> int:
        cells = self.hog_size // self.hog_cell
        return max(cells - 1, 0) ** 2 * 4 * self.hog_orientations

    def _one(self, image: np.ndarray) -> np.ndarray:
        from skimage.feature import hog

        rgb = _rgb01(image)
        grey = rgb @ np.array([0.299, 0.587, 0.114])
        h, w = grey.shape
        pixels = cv2.resize(grey, (self.size, self.size), interpolation=cv2.INTER_AREA).ravel()
        small = cv2.resize(grey, (self.hog_size, self.hog_size), interpolation=cv2.INTER_AREA)
        hog_vec = hog(small, orientations=self.hog_orientations, pixels_per_cell=(self.hog_cell, self.hog_cell),
                      cells_per_block=(2, 2), block_norm="L2-Hys", feature_vector=True)
        p5, p50, p95 = np.percentile(grey, [5, 50, 95])
        hsv = cv2.cvtColor((rgb * 255).astype(np.uint8), cv2.COLOR_RGB2HSV)
        stats = [*rgb.reshape(-1, 3).mean(0), *rgb.reshape(-1, 3).std(0), grey.mean(), grey.std(), p5, p50, p95,
                 p95 - p5, hsv[..., 1].mean() / 255.0, math.log(w / h)]
        scale = self.ink_size / min(h, w)
        work = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))),
                          interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        work8 = np.clip(work * 255, 0, 255).astype(np.uint8)
        edges = cv2.Canny(work8, 50, 150)
        gx, gy = cv2.Sobel(work, cv2.CV_64F, 1, 0), cv2.Sobel(work, cv2.CV_64F, 0, 1)
        stats += [float((edges > 0).mean()), float(np.hypot(gx, gy).mean()),
                  float(cv2.Laplacian(work, cv2.CV_64F).std())]
        stats += self._ink(work)
        return np.concatenate([pixels, hog_vec, np.asarray(stats, np.float64)])

    def _ink(self, work: np.ndarray) -> list[float]:
        from skimage.morphology import skeletonize

        border = np.concatenate([work[0], work[-1], work[:, 0], work[:, -1]])
        background = float(np.median(border))
        diff = np.abs(work - background)
        diff8 = np.clip(diff * 255, 0, 255).astype(np.uint8)
        otsu, _ = cv2.threshold(diff8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        ink = diff8 > max(otsu, self.min_ink_contrast * 255)
        if not ink.any():
            return [0.0] * 10
        polarity = 1.0 if float(work[ink].mean()) > background else -1.0
        dist = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, 3)
        skeleton = skeletonize(ink)
        thickness = 2 * float(dist[skeleton].mean() if skeleton.any() else dist.max()) / min(work.shape)
        components = cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)[0] - 1
        ys, xs = np.nonzero(ink)
        bh, bw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        return [float(ink.mean()), polarity, float(diff[ink].mean()), thickness, math.log1p(components),
                float(ink.sum() / (bh * bw)), math.log(bw / bh), float(bh * bw / ink.size),
                float(xs.mean() / work.shape[1]), float(ys.mean() / work.shape[0])]


def _rgb01(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    elif arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:  # alpha: composite over black, as most loaders that drop alpha would
        arr = (arr[..., :3].astype(np.float64) * (arr[..., 3:] / 255.0))
    scale = 255.0 if arr.dtype == np.uint8 or arr.max(initial=0) > 1 else 1.0
    return np.asarray(arr[..., :3], np.float64) / scale


# -- text -------------------------------------------------------------------------------------------

class TextFeatures(_Extractor):
    """Features of a string: character n-grams (within word boundaries) hashed into `n_features` columns
    (sklearn HashingVectorizer, non-negative, L2-normalised; no vocabulary, so nothing is learnt), and
    length statistics: log characters, log words, log lines, mean word length and the fractions of
    digits, upper case, letters, spaces, punctuation and non-ASCII characters."""

    STATS = ("log_chars", "log_words", "log_lines", "mean_word_length", "digit_fraction", "upper_fraction",
             "alpha_fraction", "space_fraction", "punct_fraction", "non_ascii_fraction")

    def __init__(self, n_features: int = 512, ngram_range: tuple[int, int] = (1, 3)) -> None:
        self.n_features = n_features
        self.ngram_range = ngram_range

    def _names(self) -> list[str]:
        return [f"char_ngram_{k}" for k in range(self.n_features)] + list(self.STATS)

    def transform(self, X: Sequence[Any]) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        if not hasattr(self, "feature_names_"):
            self.fit(X)
        texts = [str(x) for x in X]
        hashed = HashingVectorizer(analyzer="char_wb", ngram_range=tuple(self.ngram_range), lowercase=False,
                                   n_features=self.n_features, alternate_sign=False, norm="l2").transform(texts)
        stats = np.array([self._stats(t) for t in texts], np.float64).reshape(len(texts), len(self.STATS))
        return np.hstack([hashed.toarray(), stats])

    @staticmethod
    def _stats(text: str) -> list[float]:
        n = max(len(text), 1)
        words = text.split()
        return [math.log1p(len(text)), math.log1p(len(words)), math.log1p(text.count("\n") + 1),
                float(np.mean([len(w) for w in words])) if words else 0.0,
                sum(c.isdigit() for c in text) / n, sum(c.isupper() for c in text) / n,
                sum(c.isalpha() for c in text) / n, sum(c.isspace() for c in text) / n,
                sum(c in string.punctuation for c in text) / n, sum(ord(c) > 127 for c in text) / n]


# -- audio ------------------------------------------------------------------------------------------

class AudioFeatures(_Extractor):
    """Features of a clip ((samples, rate), mono or multi-channel, mixed to mono and resampled to
    `sample_rate`): the mean and standard deviation over time of each of `n_mels` log-mel bands (numpy
    STFT with a Hann window of `n_fft`, hop `hop_length`, triangular mel filters, dB), log duration,
    RMS level mean/std (dB), zero-crossing rate, spectral centroid mean/std (fraction of Nyquist),
    spectral flatness and the fraction of near-silent frames (60 dB below the loudest)."""

    STATS = ("log_duration_s", "rms_db_mean", "rms_db_std", "zero_crossing_rate", "centroid_mean", "centroid_std",
             "flatness_mean", "silent_fraction")

    def __init__(self, sample_rate: int = 16000, n_fft: int = 512, hop_length: int = 256, n_mels: int = 32) -> None:
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels

    def _names(self) -> list[str]:
        return ([f"mel_{k}_mean" for k in range(self.n_mels)] + [f"mel_{k}_std" for k in range(self.n_mels)]
                + list(self.STATS))

    def _one(self, clip: tuple[np.ndarray, int]) -> np.ndarray:
        from scipy.signal import resample_poly

        samples, rate = clip
        x = np.asarray(samples, np.float64)
        if x.ndim == 2:
            x = x.mean(axis=1)
        if rate != self.sample_rate:
            g = math.gcd(int(rate), self.sample_rate)
            x = resample_poly(x, self.sample_rate // g, int(rate) // g)
        duration = len(x) / self.sample_rate
        if len(x) < self.n_fft:
            x = np.pad(x, (0, self.n_fft - len(x)))
        frames = np.lib.stride_tricks.sliding_window_view(x, self.n_fft)[::self.hop_length]
        power = np.abs(np.fft.rfft(frames * np.hanning(self.n_fft), axis=1)) ** 2
        mel = 10 * np.log10(power @ mel_filters(self.sample_rate, self.n_fft, self.n_mels).T + 1e-10)
        rms_db = 10 * np.log10((frames ** 2).mean(axis=1) + 1e-10)
        freqs = np.linspace(0, 1, power.shape[1])
        total = power.sum(axis=1) + 1e-20
        centroid = (power * freqs).sum(axis=1) / total
        flatness = np.exp(np.log(power + 1e-20).mean(axis=1)) / (power.mean(axis=1) + 1e-20)
        zcr = float(np.mean(np.abs(np.diff(np.signbit(x).astype(np.int8))))) if len(x) > 1 else 0.0
        stats = [math.log(max(duration, 1e-3)), rms_db.mean(), rms_db.std(), zcr, centroid.mean(), centroid.std(),
                 flatness.mean(), float((rms_db < rms_db.max() - 60).mean())]
        return np.concatenate([mel.mean(axis=0), mel.std(axis=0), stats])


def mel_filters(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular filters evenly spaced on the HTK mel scale from 0 Hz to Nyquist: (n_mels, n_fft//2 + 1)."""
    to_mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    to_hz = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    edges = to_hz(np.linspace(0, to_mel(sample_rate / 2), n_mels + 2))
    freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise = (freqs - lower) / np.maximum(centre - lower, 1e-9)
    fall = (upper - freqs) / np.maximum(upper - centre, 1e-9)
    return np.maximum(0, np.minimum(rise, fall))


# -- tables -----------------------------------------------------------------------------------------

class TableFeatures(_Extractor):
    """Features of a table row (a dict): every numeric column as it is (booleans as 0/1; a missing value
    becomes the column median learnt in `fit`, plus a `<col>=missing` indicator where `fit` saw gaps),
    and every other column one-hot over its `max_categories` most frequent values (the rest: `<col>=other`).
    Columns named in `exclude` are left out."""

    def __init__(self, max_categories: int = 20, exclude: Sequence[str] = ()) -> None:
        self.max_categories = max_categories
        self.exclude = exclude

    def fit(self, X: Sequence[dict[str, Any]], y: Any = None) -> TableFeatures:
        columns = sorted({k for row in X for k in row} - set(self.exclude))
        self.numeric_: dict[str, tuple[float, bool]] = {}
        self.categories_: dict[str, list[str]] = {}
        for col in columns:
            values = [row.get(col) for row in X]
            present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
            if present and all(isinstance(v, (int, float)) for v in present):
                self.numeric_[col] = (float(np.median([float(v) for v in present])), len(present) < len(values))
            else:
                counts: dict[str, int] = {}
                for v in values:
                    counts[_category(v)] = counts.get(_category(v), 0) + 1
                top = sorted(counts, key=lambda k: (-counts[k], k))[: self.max_categories]
                self.categories_[col] = sorted(top)
        self.feature_names_ = self._names()
        return self

    def _names(self) -> list[str]:
        names = []
        for col, (_, gaps) in self.numeric_.items():
            names += [col] + ([f"{col}=missing"] if gaps else [])
        for col, cats in self.categories_.items():
            names += [f"{col}={c}" for c in cats] + [f"{col}=other"]
        return names

    def _one(self, row: dict[str, Any]) -> np.ndarray:
        out: list[float] = []
        for col, (median, gaps) in self.numeric_.items():
            v = row.get(col)
            missing = v is None or not isinstance(v, (int, float)) or (isinstance(v, float) and math.isnan(v))
            out.append(median if missing else float(v))
            if gaps:
                out.append(float(missing))
        for col, cats in self.categories_.items():
            c = _category(row.get(col))
            out += [float(c == k) for k in cats] + [float(c not in cats)]
        return np.asarray(out, np.float64)


def _category(value: Any) -> str:
    return "missing" if value is None else str(value)


EXTRACTORS: dict[str, type[_Extractor]] = {"image": ImageFeatures, "text": TextFeatures, "audio": AudioFeatures,
                                           "table": TableFeatures}


def extractor_for(modality: str, **params: Any) -> _Extractor:
    """The default extractor of a modality, with `params` passed to its `__init__`."""
    if modality not in EXTRACTORS:
        raise SynthError(f"no feature extractor for modality '{modality}'; known: {', '.join(EXTRACTORS)}")
    return EXTRACTORS[modality](**params)


# -- the user's own feature function ----------------------------------------------------------------

class FunctionFeatures(_Extractor):
    """Features from the user's own function of one sample's data (an image array, a text, an audio array, a
    table row as a dict) to a 1-D vector: what their model sees, for samples no embeddings file can hold yet
    (`synth tune` makes new ones every trial). Every vector must have the same length, finite values."""

    def __init__(self, function: Any, name: str = "features") -> None:
        self.function = function
        self.name = name

    def fit(self, X: Sequence[Any], y: Any = None) -> FunctionFeatures:
        self.dims_ = len(self._one(X[0])) if len(X) else 0
        self.feature_names_ = [f"{self.name}_{k}" for k in range(self.dims_)]
        return self

    def _one(self, x: Any) -> np.ndarray:
        try:
            v = np.asarray(self.function(x), dtype=np.float64).ravel()
        except Exception as exc:  # the user's code: any failure is theirs to see, named, not a traceback
            raise SynthError(f"{self.name} failed on a sample: {type(exc).__name__}: {exc}",
                             field="--features") from None
        if hasattr(self, "dims_") and len(v) != self.dims_:
            raise SynthError(f"{self.name} returned {len(v)} values for one sample and {self.dims_} for the first",
                             field="--features")
        if not np.isfinite(v).all():
            raise SynthError(f"{self.name} returned NaN or infinite values", field="--features")
        return v


def load_feature_function(spec: str) -> FunctionFeatures:
    """`module:function` (importable) or `path/to/file.py:function`: the user's feature function, named on the
    command line (never in a recipe: recipes are data). A clear error for a missing module, file or name."""
    import importlib
    import importlib.util

    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr.isidentifier():
        raise SynthError(f"--features takes module:function or path/to/file.py:function, not {spec!r}",
                         field="--features")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise SynthError(f"no such file: {target}", field="--features")
        mod_spec = importlib.util.spec_from_file_location(f"synth_user_features_{path.stem}", path)
        if mod_spec is None or mod_spec.loader is None:
            raise SynthError(f"cannot load {target} as Python", field="--features")
        module = importlib.util.module_from_spec(mod_spec)
        try:
            mod_spec.loader.exec_module(module)
        except Exception as exc:
            raise SynthError(f"importing {target} failed: {type(exc).__name__}: {exc}", field="--features") from None
    else:
        try:
            module = importlib.import_module(target)
        except Exception as exc:
            raise SynthError(f"cannot import module {target!r}: {type(exc).__name__}: {exc}",
                             field="--features") from None
    function = getattr(module, attr, None)
    if not callable(function):
        raise SynthError(f"{target} has no function {attr!r}", field="--features")
    return FunctionFeatures(function, name=attr)


# -- the user's own embeddings ----------------------------------------------------------------------

ID_KEYS = ("sample_id", "ids", "id")
VECTOR_KEYS = ("embedding", "embeddings", "vectors", "vector")


def load_embeddings(path: str | Path, ids: Sequence[str]) -> np.ndarray:
    """Vectors for `ids` (rows in that order) from a file keyed by sample id:

    - Parquet: a `sample_id` column and either one list column (`embedding`, `embeddings`, `vectors` or
      `vector`) or numeric columns (one per dimension);
    - .npz: an array of ids (`sample_id`, `ids` or `id`) and a 2-D array of vectors (`embedding`, ...);
    - .npy: a structured array with fields `sample_id` and `embedding`.
    Table-block rows (`<sample_id>#<n>`) fall back to their block's vector. A missing id is an error."""
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise SynthError("no such embeddings file", file=where, field="--embeddings")
    if path.stat().st_size > MAX_EMBEDDING_BYTES:
        raise SynthError(f"embeddings file over {MAX_EMBEDDING_BYTES:,} bytes", file=where, field="--embeddings")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            keys, vectors = _parquet_embeddings(path)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                key = next((k for k in ID_KEYS if k in npz.files), None)
                vec = next((k for k in VECTOR_KEYS if k in npz.files), None)
                if key is None or vec is None:
                    raise SynthError(f"needs an id array ({' / '.join(ID_KEYS)}) and a vector array "
                                     f"({' / '.join(VECTOR_KEYS)}); found {', '.join(npz.files) or 'none'}", file=where)
                keys, vectors = [str(k) for k in npz[key]], np.asarray(npz[vec], np.float64)
        elif suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
            if arr.dtype.names is None or not {"sample_id", "embedding"} <= set(arr.dtype.names):
                raise SynthError("a .npy file needs a structured array with fields sample_id and embedding "
                                 "(or use .npz with arrays sample_id and embedding)", file=where)
            keys, vectors = [str(k) for k in arr["sample_id"]], np.asarray(arr["embedding"], np.float64)
        else:
            raise SynthError("embeddings are read from .parquet, .npz or .npy", file=where, field="--embeddings")
    except (ValueError, OSError) as exc:
        raise SynthError(f"cannot read embeddings: {exc}", file=where) from None
    if vectors.ndim != 2 or len(vectors) != len(keys):
        raise SynthError(f"needs one vector per id: {len(keys)} ids, vectors of shape {vectors.shape}", file=where)
    if not np.isfinite(vectors).all():
        raise SynthError("embeddings hold NaN or infinite values", file=where)
    index = {k: i for i, k in enumerate(keys)}
    rows, missing = [], []
    for sid in ids:
        i = index.get(sid, index.get(sid.split("#", 1)[0]))
        if i is None:
            missing.append(sid)
        rows.append(i if i is not None else 0)
    if missing:
        raise SynthError(f"{len(missing)} of {len(ids)} samples have no embedding (e.g. "
                         f"{', '.join(missing[:3])})", file=where, field="sample_id")
    return vectors[rows]


def _parquet_embeddings(path: Path) -> tuple[list[str], np.ndarray]:
    import pyarrow.parquet as pq
    import pyarrow.types as pt

    table = pq.read_table(path)
    if "sample_id" not in table.column_names:
        raise SynthError(f"needs a sample_id column; columns are {', '.join(table.column_names)}", file=str(path))
    keys = [str(k) for k in table.column("sample_id").to_pylist()]
    vec = next((k for k in VECTOR_KEYS if k in table.column_names), None)
    if vec is not None:
        return keys, np.asarray(table.column(vec).to_pylist(), np.float64)
    numeric = [c for c in table.column_names if c != "sample_id" and
               (pt.is_integer(table.schema.field(c).type) or pt.is_floating(table.schema.field(c).type))]
    if not numeric:
        raise SynthError(f"needs a list column ({' / '.join(VECTOR_KEYS)}) or numeric columns", file=str(path))
    return keys, np.column_stack([table.column(c).to_numpy(zero_copy_only=False) for c in numeric]).astype(np.float64)
