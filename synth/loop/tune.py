"""`synth tune`: search a recipe's `tune:` ranges for the variant whose data is closest to real data.

Each trial is a small version of the recipe with the proposed distribution arguments, generated with the
same executors as any run and tagged `tune.<study>.<n>`; it is scored by a `Scorer` (`c2st`: how well a
classifier tells it from real data, lower is better; `tstr`: a probe trained on it, scored on labeled real
rows, higher is better). The study is Optuna's seeded TPE, stored in the workspace (`tune/<study>.log`),
so a rerun proposes the same trials and a killed search resumes where it stopped. The best trial becomes
a recipe that `extends:` the original with the tuned overrides, when it beats the untuned recipe beyond
noise (`MIN_GAIN` for c2st; for TSTR a row-by-row sign test on the real rows, `paired_evidence`)."""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from synth.engine.executors import Executor, make_executor
from synth.engine.generate import generate
from synth.errors import SynthError
from synth.loop.features import extractor_for, load_feature_function
from synth.loop.gap import MIN_SAMPLES, table_probe_features
from synth.loop.samples import Side, load_side
from synth.loop.stats import c2st, make_classifier, make_probe, tstr
from synth.recipe.loader import load_recipe, override_block
from synth.recipe.tune import SearchSpace, parse_tune
from synth.store.workspace import Workspace

TUNE_DIR = "tune"


@dataclass
class Objective:
    """How a trial is scored: `score(ws, version, recipe_name) -> float` over that recipe's synthetic rows
    of the version, and which way is better. `rows` (TSTR): the same scoring's per-real-row outcome (was
    each real row read right), so two recipes can be compared row by row on the same real rows."""

    name: str
    score: Callable[[Workspace, int, str | None], float]
    maximize: bool
    rows: Callable[[Workspace, int, str | None], np.ndarray] | None = None
    support: int = 0  # real rows every score is taken on


METRICS = ("c2st", "tstr")


def make_objective(metric: str, ws: Workspace, real: int | str | None, *, max_samples: int = 2000,
                   seed: int = 0, classifier: str = "logistic", features: str | None = None,
                   probe: str = "logistic", exclude: set[str] | None = None) -> Objective:
    """`c2st`: cross-validated AUC of a classifier (`classifier`: logistic or boosting, see
    `synth.loop.stats.make_classifier`) telling a trial's samples from the real ones (0.5 is
    indistinguishable; minimised). `tstr`: accuracy on the real rows of a probe trained on the trial's
    samples (maximised; the real rows need class labels; `probe`: logistic, svm or boosting, see
    `synth.loop.stats.make_probe`: choose the one closest to your own model). Features: the modality's
    built-in extractor, or the user's function named by `features` (`module:function` or `file.py:function`, see
    `synth.loop.features.load_feature_function`): score the data in the terms the user's model sees it.
    `exclude`: real sample ids left out (a holdout objective leaves out the rows the search scores on)."""
    if metric not in METRICS:
        raise SynthError(f"unknown metric '{metric}'; use {' or '.join(METRICS)}", field="--metric")
    make_classifier(classifier, seed)  # an unknown classifier or probe is an error before any trial runs
    make_probe(probe, seed)
    own = load_feature_function(features) if features else None
    rea = load_side(ws, real, "real", max_samples=max_samples, seed=seed, exclude=exclude,
                    name="holdout" if exclude is not None else None)
    if len(rea) < MIN_SAMPLES:
        if exclude is not None:
            raise SynthError(f"{len(rea)} real rows beyond those the search scores on; at least {MIN_SAMPLES} are "
                             "needed (import the held-out rows as their own version)", field="--holdout")
        raise SynthError(f"version {rea.version} holds {len(rea)} real rows; a score needs at least {MIN_SAMPLES} "
                         "(no statistics on noise)", field="--real")
    if metric == "tstr" and any(c is None for c in rea.classes()):
        raise SynthError(f"--metric tstr scores on labeled real rows, and version {rea.version} has rows without "
                         "a class label (imported --unlabeled?); use --metric c2st, which needs no labels",
                         field="--metric")

    outcomes: dict[tuple[int, str | None], np.ndarray] = {}  # TSTR: (version, recipe) -> real rows read right

    def score(ws: Workspace, version: int, recipe: str | None = None) -> float:
        syn = load_side(ws, version, "synthetic", recipe=recipe, max_samples=max_samples, seed=seed)
        if syn.modality != rea.modality:
            raise SynthError(f"the recipe makes {syn.modality} and the real version holds {rea.modality}",
                             field="--real")
        if metric == "c2st":
            X_syn, X_real = _features(syn, rea, own)
            is_real = np.r_[np.zeros(len(syn)), np.ones(len(rea))].astype(int)
            return float(c2st(np.vstack([X_syn, X_real]), is_real, classifier=classifier, seed=seed, n_boot=0).auc)
        y_syn = syn.classes()
        if any(c is None for c in y_syn) or set(rea.classes()) - set(y_syn):
            raise SynthError(f"trial version {version} lacks classes the real rows have", field="--metric")
        if syn.modality == "table" and (syn.class_column or rea.class_column):
            X = table_probe_features(syn, rea, own or extractor_for("table"))  # never the class column itself
            X_syn, X_real = X[:len(syn)], X[len(syn):]
        else:
            X_syn, X_real = _features(syn, rea, own)
        result = tstr(X_syn, y_syn, X_real, rea.classes(), seed=seed, probe=probe)
        outcomes[(version, recipe)] = result.correct
        return float(result.accuracy)

    def rows(ws: Workspace, version: int, recipe: str | None = None) -> np.ndarray:
        if (version, recipe) not in outcomes:  # a resumed study scored it in an earlier process
            score(ws, version, recipe)
        return outcomes[(version, recipe)]

    return Objective(metric, score, maximize=metric == "tstr", rows=rows if metric == "tstr" else None,
                     support=len(rea))


def _features(syn: Side, rea: Side, own: Any = None) -> tuple[np.ndarray, np.ndarray]:
    X = (own or extractor_for(syn.modality)).fit_transform(syn.data + rea.data)
    return X[:len(syn)], X[len(syn):]


@dataclass
class Trial:
    number: int
    state: str
    score: float | None
    version: int | None
    point: dict[str, float]
    overrides: dict[str, Any]
    seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "state": self.state, "score": self.score, "version": self.version,
                "params": self.point, "overrides": self.overrides, "seconds": self.seconds}


@dataclass
class TuneResult:
    study: str
    metric: str
    maximize: bool
    trials: list[Trial]
    best: Trial | None
    baseline: float | None
    baseline_version: int | None = None
    importances: dict[str, float] = field(default_factory=dict)
    recipe_out: str | None = None
    holdout: dict[str, Any] | None = None  # before/after on real rows the search never saw
    evidence: dict[str, Any] | None = None  # TSTR: best trial vs untuned recipe, row by row (`paired_evidence`)

    def as_dict(self) -> dict[str, Any]:
        return {"study": self.study, "metric": self.metric, "direction": "maximize" if self.maximize else "minimize",
                "baseline": self.baseline, "baseline_version": self.baseline_version,
                "best": self.best.as_dict() if self.best else None, "holdout": self.holdout,
                "evidence": self.evidence,
                "importances": self.importances, "recipe": self.recipe_out,
                "trials": [t.as_dict() for t in self.trials]}


def tune(recipe_path: str | Path, ws: Workspace, objective: Objective, *, trials: int = 20,
         count_per_trial: int = 200, study: str | None = None, seed: int = 0, workers: int | None = None,
         executor: str = "local", executor_options: dict[str, Any] | None = None, out: str | Path | None = None,
         holdout: Objective | None = None, on_trial: Callable[[Trial], None] | None = None) -> TuneResult:
    """Run (or resume) the study until it holds `trials` finished trials; write the best recipe to `out`.
    `holdout` scores the untuned recipe and the best trial on real rows the search never used."""
    import optuna

    recipe_path = Path(recipe_path)
    recipe = load_recipe(recipe_path)
    if recipe.model.tune is None:
        raise SynthError(f"{recipe_path} has no 'tune:' block: name the parameters and ranges the search may "
                         "use, e.g. tune: {{layout.scale: {{uniform: [[0.4, 0.8], [0.7, 1.0]]}}}}", field="tune")
    if trials < 1 or count_per_trial < 1:
        raise SynthError("--trials and --count-per-trial must be at least 1", field="--trials")
    space = parse_tune(recipe.model.tune, recipe.lines, recipe.file)
    name = study or f"{recipe.name}-{objective.name}"
    _check_study_name(name)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failed trials are reported through on_trial instead
    storage = _storage(ws, name)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(3, min(10, trials // 3)))
    st = optuna.create_study(study_name=name, storage=storage, sampler=sampler, load_if_exists=True,
                             direction="maximize" if objective.maximize else "minimize")
    workers = max(1, workers or os.cpu_count() or 1)
    with make_executor(executor, workers, executor_options) as ex:
        base_version, baseline = _baseline(recipe_path, ws, objective, name, count_per_trial, workers, ex)
        done = [t for t in st.trials if t.state.is_finished()]
        todo = max(0, trials - len(done))
        run = _runner(recipe_path, ws, objective, space, name, count_per_trial, workers, ex, on_trial)
        st.optimize(run, n_trials=todo, catch=(SynthError,))
    result = _result(st, name, objective, space, baseline)
    result.baseline_version = base_version
    if result.best is not None and objective.rows is not None and base_version is not None \
            and result.best.version is not None:
        result.evidence = paired_evidence(objective.rows(ws, base_version, f"tune.{name}.base"),
                                          objective.rows(ws, result.best.version, f"tune.{name}.{result.best.number}"),
                                          len([t for t in result.trials if t.state == "complete"]))
    if result.best is not None and not _worse_than_baseline(result) \
            and (result.evidence is None or result.evidence["significant"]):
        result.recipe_out = str(write_best(recipe_path, result, out))
    if holdout is not None and result.best is not None and result.best.version is not None:
        # also when nothing is written: the held-out rows show what the candidate would have done
        best_tag = f"tune.{name}.{result.best.number}"
        result.holdout = {"metric": holdout.name, "rows": holdout.support,
                          "best": holdout.score(ws, result.best.version, best_tag),
                          "baseline": holdout.score(ws, base_version, f"tune.{name}.base")
                          if base_version is not None else None}
    return result


MIN_GAIN = {"c2st": 0.005, "tstr": 0.0}
"""How much the best trial must beat the untuned recipe by before it is written: a two-sample AUC that moves by
less than half a point is noise at trial sizes (and near 1.0 it says nothing about the content: on upscaled
8x8 digits every trial scores 0.999+, and the 'best' one drew unreadable glyphs). TSTR accuracy is counted in
real rows, so any rise is at least one more real row read right."""


TSTR_ALPHA = 0.05
"""A TSTR best trial is written only when it reads more real rows right than the untuned recipe beyond chance:
a one-sided sign test on the rows where the two disagree, at TSTR_ALPHA / (number of trials), since the best of
N noisy scores beats the baseline by luck far more often than one score does. Measured on UCI digits with 100
labeled rows: best trials 2-4 rows ahead of the untuned recipe scored 0.84-0.87 on the 1,697 rows the search
never saw, the untuned recipe 0.90."""


def paired_evidence(base: np.ndarray, best: np.ndarray, n_trials: int) -> dict[str, Any]:
    """Row-by-row comparison of two TSTR outcomes on the same real rows: how many rows only the best trial reads
    right (`gained`), how many only the untuned recipe (`lost`), the sign test's p and the bar it must clear."""
    from scipy.stats import binomtest

    base, best = np.asarray(base, bool), np.asarray(best, bool)
    gained, lost = int((best & ~base).sum()), int((base & ~best).sum())
    p = float(binomtest(gained, gained + lost, 0.5, alternative="greater").pvalue) if gained + lost else 1.0
    alpha = TSTR_ALPHA / max(1, n_trials)
    return {"rows": int(len(base)), "gained": gained, "lost": lost, "p": p, "alpha": alpha,
            "significant": p < alpha}


def _worse_than_baseline(result: TuneResult) -> bool:
    """No trial beat the untuned recipe by `MIN_GAIN`: writing the best trial would not make the data better."""
    if result.baseline is None or result.best is None or result.best.score is None:
        return False
    gain = result.best.score - result.baseline if result.maximize else result.baseline - result.best.score
    return gain <= MIN_GAIN.get(result.metric, 0.0)


def _runner(recipe_path: Path, ws: Workspace, objective: Objective, space: SearchSpace, name: str, count: int,
            workers: int, ex: Executor, on_trial: Callable[[Trial], None] | None) -> Callable[[Any], float]:
    def run(trial: Any) -> float:
        started = time.perf_counter()
        point = {d.name: (trial.suggest_int(d.name, int(d.low), int(d.high)) if d.integer
                          else trial.suggest_float(d.name, d.low, d.high)) for d in space.dimensions()}
        overrides = space.overrides(point)
        trial.set_user_attr("overrides", overrides)
        tag = f"tune.{name}.{trial.number}"
        try:
            version = _trial_version(recipe_path, ws, overrides, tag, count, workers, ex,
                                     f"tune {name} trial {trial.number}")
            trial.set_user_attr("version", version)
            score = objective.score(ws, version, tag)
            if not math.isfinite(score):
                raise SynthError(f"trial {trial.number} scored {score}", field="tune")
        except SynthError as exc:  # recorded as failed; the search goes on
            trial.set_user_attr("error", str(exc))
            if on_trial:
                on_trial(Trial(trial.number, "fail", None, None, point, overrides,
                               round(time.perf_counter() - started, 2)))
            raise
        if on_trial:
            on_trial(Trial(trial.number, "complete", score, version, point, overrides,
                           round(time.perf_counter() - started, 2)))
        return score
    return run


def _trial_version(recipe_path: Path, ws: Workspace, overrides: dict[str, Any], tag: str, count: int,
                   workers: int, ex: Executor, message: str) -> int:
    """The version a trial's data lives in: already tagged (a resumed study), else generated and tagged."""
    if ws.manifest.exists():
        tags = ws.manifest.dataset().tags.list()
        if tag in tags:
            return int(tags[tag]["version"])
    # each trial is its own recipe name (its tag), so scoring reads that trial's rows alone from a version
    # that also holds every earlier trial
    recipe = load_recipe(recipe_path, {**overrides, "name": tag}).with_count(count)
    res = generate(recipe, ws, workers=workers, message=message, executor=ex,
                   extra={"tune": tag, "overrides": json.dumps(overrides, sort_keys=True)})
    version = res.version if res.version is not None else ws.manifest.latest_version()
    ws.manifest.tag(tag, version)
    return int(version)


def _baseline(recipe_path: Path, ws: Workspace, objective: Objective, name: str, count: int, workers: int,
              ex: Executor) -> tuple[int | None, float | None]:
    """The untuned recipe at the trials' count, scored the same way: the 'before' of before/after."""
    try:
        version = _trial_version(recipe_path, ws, {}, f"tune.{name}.base", count, workers, ex,
                                 f"tune {name} baseline")
    except SynthError:
        return None, None
    return version, objective.score(ws, version, f"tune.{name}.base")


def _result(st: Any, name: str, objective: Objective, space: SearchSpace, baseline: float | None) -> TuneResult:
    import optuna

    trials = [Trial(t.number, t.state.name.lower(), t.value, t.user_attrs.get("version"), dict(t.params),
                    t.user_attrs.get("overrides", {}),
                    (t.datetime_complete - t.datetime_start).total_seconds()
                    if t.datetime_complete and t.datetime_start else None) for t in st.trials]
    complete = [t for t in trials if t.state == "complete" and t.score is not None]
    best = None
    if complete:  # ties go to the earliest trial, so a rerun names the same best
        best = (max if objective.maximize else min)(complete, key=lambda t: (t.score if objective.maximize
                                                                             else -t.score, -t.number)
                                                    if objective.maximize else (t.score, t.number))
    importances: dict[str, float] = {}
    if len(complete) >= 4 and len(space.dimensions()) > 1:
        try:
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
            importances = {k: round(float(v), 4) for k, v in
                           optuna.importance.get_param_importances(st, evaluator=evaluator).items()}
        except (RuntimeError, ValueError, ImportError):
            importances = {}
    return TuneResult(name, objective.name, objective.maximize, trials, best, baseline, importances=importances)


def write_best(recipe_path: Path, result: TuneResult, out: str | Path | None) -> Path:
    """The best trial as a recipe that extends the original: the tuned overrides, the score in a comment."""
    from ruamel.yaml import YAML

    best = result.best
    assert best is not None
    original = load_recipe(recipe_path)
    out = Path(out) if out else recipe_path.with_name(f"{recipe_path.stem}_tuned.yaml")
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {"extends": os.path.relpath(recipe_path.resolve(), out.resolve().parent),
            "name": f"{original.name}_tuned", "params": override_block(recipe_path, best.overrides)}
    header = (f"# tuned by `synth tune` (study {result.study}, metric {result.metric}): trial {best.number} scored "
              f"{best.score:.4f}" + (f", the untuned recipe {result.baseline:.4f}" if result.baseline is not None
                                     else "") + f" ({len(result.trials)} trials)\n")
    yaml = YAML()
    yaml.default_flow_style = None
    tmp = out.with_name(f".{out.name}.tmp")
    with tmp.open("w") as fh:
        fh.write(header)
        yaml.dump(data, fh)
    tmp.replace(out)
    load_recipe(out)  # what we write must load
    return out


def _storage(ws: Workspace, name: str) -> Any:
    """The study's journal in the workspace: an append-only file, safe for processes that share it."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    root = ws.root
    if "://" in root and not root.startswith("file://"):
        raise SynthError("synth tune keeps its study in the workspace and needs a local workspace folder; "
                         "generate trials on Ray with --executor ray", field="--workspace")
    folder = Path(root.removeprefix("file://")) / TUNE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(folder / f"{name}.log")))


def _check_study_name(name: str) -> None:
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name) or ".." in name:
        raise SynthError(f"study name '{name}': letters, digits, _ . - (at most 64, no '..')", field="--study")
