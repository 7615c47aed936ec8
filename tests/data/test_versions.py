"""Versions: diff, tags as versions, concurrent writers, mix, leak-free splits, verify."""
from __future__ import annotations

import json
from collections import Counter
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from synth.store import lineage
from synth.data.corrections import Correction, commit_corrections, resolve_changes
from synth.store.commit import version_fingerprint
from synth.store.diff import diff
from synth.data.importer import import_data
from synth.data.mix import mix
from synth.data.splits import assign_splits, check
from synth.store.verify import verify
from synth.errors import SynthError
from synth.store.workspace import Workspace


def test_mix_ratio_deterministic_and_bad_sources(image_dir: Path, ws_path: str, synthetic) -> None:
    ws = Workspace.open(ws_path)
    real_v = import_data(ws, "images", image_dir).version
    one = mix(ws, [f"real:{real_v}", f"synthetic:{synthetic.version}"], "real=1,synthetic=1.5", stratify="class")
    assert one.taken == {"real": 8, "synthetic": 12} and one.rows == 20
    two = mix(ws, [f"real:{real_v}", f"synthetic:{synthetic.version}"], "real=1,synthetic=1.5", stratify="class")
    assert ws.manifest.fingerprint(one.version) == ws.manifest.fingerprint(two.version)
    assert ws.manifest.version_info(one.version).parents == sorted({real_v, synthetic.version})
    capped = mix(ws, [f"real:{real_v}", f"synthetic:{synthetic.version}"], "real=1,synthetic=1", max_rows=4,
                 stratify="class")
    classes = [json.loads(r["labels"]).get("class") for r in ws.manifest.to_table(capped.version).to_pylist()]
    assert capped.taken == {"real": 2, "synthetic": 2} and sorted(c for c in classes if c) == ["cat", "dog"]
    before = ws.manifest.latest_version()
    for sources, ratio, msg in [(["real:1", "synthetic:1"], "real=-1,synthetic=1", ">= 0"),
                                (["real:99"], None, "no version 99"), (["nosuch:1"], None, "has no rows"),
                                (["real:1"], "synthetic=1", "not a --from source")]:
        with pytest.raises(SynthError, match=msg):
            mix(ws, sources, ratio)
    assert ws.manifest.latest_version() == before
    assert len(ws.manifest.to_table(real_v)) == 20  # time travel to before the mix (12 synthetic + 8 real)


def test_splits_real_only_group_key_and_check(image_dir: Path, ws_path: str, synthetic) -> None:
    ws = Workspace.open(ws_path)
    import_data(ws, "images", image_dir)
    res = assign_splits(ws, {"train": 0.5, "val": 0.2, "test": 0.3}, group_key="labels.class")
    rows = ws.manifest.to_table(res.version).to_pylist()
    assert not [r for r in rows if r["split"] == "test" and r["origin"] != "real"]
    by_class: dict[str, set] = {}
    for r in rows:
        if r["origin"] == "real":
            by_class.setdefault(json.loads(r["labels"])["class"], set()).add(r["split"])
    assert all(len(s) == 1 for s in by_class.values())  # one class = one group = one split
    assert check(ws).ok
    assert verify(ws).ok
    # a row moved by hand into another split than its group is a leak that --check names
    from synth.store.commit import commit
    from synth.store.manifest import rows_to_table
    t = ws.manifest.to_table().to_pylist()
    first = next(r for r in t if r["origin"] == "real")
    for r in t:
        r.pop("row_hash")
        if r["sample_id"] == first["sample_id"]:
            r["split"] = "val" if first["split"] != "val" else "train"
    commit(ws, rows_to_table(t), "bad", operation="test", replace=True)
    report = check(ws)
    assert not report.ok and report.leaking_groups[0]["group"] == json.loads(first["labels"])["class"]
    assert report.leaking_total == 1
    # every leaking group is counted, not only the listed ones
    t = ws.manifest.to_table().to_pylist()
    for r in t:
        r.pop("row_hash")
        r["group_key"], r["split"] = "g" + r["sample_id"][:1], "val" if r["sample_id"][1] < "8" else "train"
    commit(ws, rows_to_table(t), "bad", operation="test", replace=True)
    expected = len({g for g, n in Counter(r["group_key"] for r in t).items()
                    if len({r["split"] for r in t if r["group_key"] == g}) > 1})
    report = check(ws, limit=1)
    assert len(report.leaking_groups) == 1 and report.leaking_total == expected > 1
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "split", "--check", "-w", ws_path],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and f"{expected} leaking group(s) in total" in proc.stdout


def test_split_is_stable_when_data_is_added(image_dir: Path, ws_path: str, synthetic) -> None:
    ws = Workspace.open(ws_path)
    first = assign_splits(ws, {"train": 0.6, "test": 0.4}, real_only=())
    before = {r["sample_id"]: r["split"] for r in ws.manifest.to_table(first.version).to_pylist()}
    import_data(ws, "images", image_dir)
    assign_splits(ws, {"train": 0.6, "test": 0.4}, real_only=())
    after = {r["sample_id"]: r["split"] for r in ws.manifest.to_table().to_pylist()}
    assert all(after[s] == before[s] for s in before)


def test_diff_tags_and_corrections(image_dir: Path, ws_path: str, tmp_path: Path) -> None:
    ws = Workspace.open(ws_path, create=True)
    labels = tmp_path / "l.csv"
    labels.write_text("file,label\ncat/0.png,cat\ncat/1.png,cat\n")
    v1 = import_data(ws, "images", image_dir, labels).version
    ws.manifest.tag("baseline", v1)
    v2 = import_data(ws, "images", image_dir).version
    sid = ws.manifest.to_table(v1).column("sample_id")[0].as_py()
    v3 = commit_corrections(ws, resolve_changes(ws, [Correction(sid, {"__set__": {"class": "lynx"}})]),
                                    message="fix")
    d = diff(ws, "baseline", v3)
    assert (d["added"], d["removed"], d["labels_changed"]) == (6, 0, 1)
    assert d["classes"]["lynx"] == {"a": 0, "b": 1} and d["classes"]["dog"] == {"a": 0, "b": 4}
    assert diff(ws, v2, v3)["changed"] == 0  # a correction changes labels, not rows
    assert ws.manifest.fingerprint(v3) != ws.manifest.fingerprint(v2)
    other = Workspace.open(str(tmp_path / "other"), create=True)
    import_data(other, "images", image_dir)
    with pytest.raises(SynthError, match="different workspaces"):
        diff(ws, 1, 1, other)


WRITER = textwrap.dedent("""
    import sys, time
    from synth.store.workspace import Workspace
    from synth.data.importer import import_data
    from synth.data.splits import assign_splits
    from synth.store.commit import ConcurrentCommit
    ws = Workspace.open(sys.argv[1])
    while time.time() < float(sys.argv[3]):
        time.sleep(0.001)
    try:
        if sys.argv[2] == "split":
            assign_splits(ws, {"train": 0.5, "test": 0.5}, real_only=())
        else:
            import_data(ws, "text", sys.argv[2])
        print("ok")
    except ConcurrentCommit as exc:
        print("retry:", exc)
""")


def test_concurrent_writers_land_with_exact_fingerprints(ws_path: str, tmp_path: Path) -> None:
    ws = Workspace.open(ws_path, create=True)
    seed = tmp_path / "seed.jsonl"
    seed.write_text('{"text": "seed"}\n')
    import_data(ws, "text", seed)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    inputs = []
    for w in range(3):
        f = tmp_path / f"in{w}.jsonl"
        f.write_text("".join(json.dumps({"text": f"writer {w} line {i}"}) + "\n" for i in range(5)))
        inputs.append(str(f))
    import time
    start = str(time.time() + 4)
    procs = [subprocess.Popen([sys.executable, str(script), ws_path, arg, start], stdout=subprocess.PIPE, text=True)
             for arg in inputs + ["split"]]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(o == "ok" for o in outs[:3]), outs
    assert outs[3] == "ok" or "run the command again" in outs[3]
    table = ws.manifest.to_table()
    assert table.num_rows == 16 and len(set(table.column("sample_id").to_pylist())) == 16
    for info in ws.manifest.versions():
        hashes = ws.manifest.to_table(info.version).column("row_hash").combine_chunks()
        assert info.fingerprint == version_fingerprint(hashes, lineage.correction_ids(ws, info.version))
        assert verify(ws, info.version).ok


def test_verify_finds_missing_and_corrupt_blobs(image_dir: Path, ws_path: str) -> None:
    ws = Workspace.open(ws_path, create=True)
    import_data(ws, "images", image_dir)
    assert verify(ws).ok
    hashes = [json.loads(p)["image"]["hash"] for p in ws.manifest.to_table().column("payloads").to_pylist()]
    Path(ws.store.path(hashes[0])).write_bytes(b"garbage")
    Path(ws.store.path(hashes[1])).unlink()
    rep = verify(ws)
    assert [c["hash"] for c in rep.corrupt] == [hashes[0]] and [m["hash"] for m in rep.missing] == [hashes[1]]
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "verify", "-w", ws_path], capture_output=True, text=True)
    assert proc.returncode == 1 and "1 missing, 1 corrupt" in proc.stdout
