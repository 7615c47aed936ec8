"""synth.torch: train from a workspace without exporting, through a real torch DataLoader with workers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from synth import api
from synth.errors import SynthError
from synth.torch import SynthDataset, SynthIterableDataset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("torch") / "ws"
    api.generate(ROOT / "recipes" / "digits.yaml", ws, count=12, workers=1)
    return ws


def to_pair(item: dict) -> tuple[torch.Tensor, int]:
    return torch.from_numpy(item["image"]).float().div(255).reshape(-1), item["label"]


def test_one_training_step_through_a_dataloader_with_two_workers(digits: Path) -> None:
    ds = SynthDataset(digits, split="train", transform=to_pair)
    assert len(ds) == 11 and ds.classes == [str(d) for d in range(10)]
    loader = DataLoader(ds, batch_size=4, shuffle=True, num_workers=2,
                        generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = torch.nn.Linear(28 * 28, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    before = model.weight.detach().clone()
    seen = []
    for x, y in loader:
        assert x.shape[1:] == (28 * 28,) and x.dtype == torch.float32 and y.dtype == torch.int64
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += y.tolist()
    assert torch.isfinite(loss) and not torch.equal(before, model.weight)
    # digits cycle 0-9 by sample index; the training split holds indices 0-10 but 9 (in val)
    assert sorted(seen) == sorted([i % 10 for i in range(12) if i != 9])


def test_items_hold_decoded_payloads_and_current_labels(digits: Path) -> None:
    item = SynthDataset(digits, split="val")[0]
    assert item["image"].dtype == np.uint8 and item["image"].shape == (28, 28)
    assert item["labels"]["class"] == "9" and item["label"] == 9 and item["split"] == "val"
    raw = SynthDataset(digits, split="val", decode=False)[0]["image"]
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SynthError, match="no split test"):
        SynthDataset(digits, split="test")


def test_iterable_dataset_reads_each_row_once_across_workers_and_ranks(digits: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [r["sample_id"] for r in SynthIterableDataset(digits)]
    assert len(ids) == len(set(ids)) == 12
    ds = SynthIterableDataset(digits, transform=lambda it: it["sample_id"], shuffle=True, seed=1)
    both = [s for batch in DataLoader(ds, batch_size=None, num_workers=2) for s in [batch]]
    assert sorted(both) == sorted(ids)
    ds.set_epoch(1)
    assert list(ds) != both or len(ids) < 3  # a new epoch, a new order
    monkeypatch.setenv("WORLD_SIZE", "2")
    halves = []
    for rank in ("0", "1"):
        monkeypatch.setenv("RANK", rank)
        halves.append(list(ds))
    assert len(halves[0]) == len(halves[1]) == 6 and sorted(halves[0] + halves[1]) == sorted(ids)


def test_object_labels_become_box_tensors(tmp_path: Path) -> None:
    recipe = tmp_path / "s.yaml"
    recipe.write_text("name: s\nscene: shapes\ncount: 2\nseed: 4\nparams:\n  width: 64\n  height: 64\n")
    api.generate(recipe, tmp_path / "ws", workers=1)
    ds = SynthDataset(tmp_path / "ws")
    for i in range(len(ds)):
        item = ds[i]
        objects = [o for o in item["labels"]["objects"] if o.get("box") is not None]
        assert item["boxes"].shape == (len(objects), 4) and item["boxes"].dtype == torch.float32
        assert [ds.classes[k] for k in item["box_labels"].tolist()] == [o["class"] for o in objects]
        assert item["mask"].shape == item["image"].shape[:2]


def test_reads_blobs_through_fsspec(tmp_path: Path) -> None:
    url = f"memory://torch-{tmp_path.name}"
    api.generate(ROOT / "recipes" / "digits.yaml", url, count=3, workers=1)
    local = SynthDataset(url)
    assert [local[i]["label"] for i in range(3)] == [0, 1, 2] and local[0]["image"].shape == (28, 28)
