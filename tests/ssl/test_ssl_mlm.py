"""mlm: 15% chosen, of those 80/10/10, within binomial bounds over many samples; labels -100 elsewhere."""
from __future__ import annotations

import math

import numpy as np
import pytest
from faker import Faker

from ssl_helpers import apply_task
from ssl_tasks.mlm import IGNORE_INDEX, MASK_ID, SPECIAL_TOKENS, tokenize
from synth.errors import SynthError
from synth.core.sample import Sample, image, text


def _within(count: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def _texts(n: int) -> list[str]:
    fake = Faker()
    fake.seed_instance(11)
    return [fake.paragraph(nb_sentences=12) for _ in range(n)]


def test_proportions_within_binomial_bounds():
    tokens = chosen = masked = randomised = kept = 0
    for index, value in enumerate(_texts(300)):
        sample = Sample(payloads={"text": text(value)})
        label = apply_task("mlm", sample, index=index)
        inputs = sample.payloads[label["payloads"]["input_ids"]].data
        labels = sample.payloads[label["payloads"]["labels"]].data
        tokens += label["num_tokens"]
        chosen += len(label["positions"])
        masked += label["actions"].count("mask")
        randomised += label["actions"].count("random")
        kept += label["actions"].count("keep")
        assert (inputs[label["positions"]][np.array(label["actions"]) == "mask"] == MASK_ID).all()
        assert np.flatnonzero(labels != IGNORE_INDEX).tolist() == label["positions"]
    assert tokens > 10_000
    assert _within(chosen, tokens, 0.15)
    assert _within(masked, chosen, 0.8) and _within(randomised, chosen, 0.1) and _within(kept, chosen, 0.1)


def test_labels_are_ignore_index_outside_chosen_positions():
    value = _texts(1)[0]
    sample = Sample(payloads={"text": text(value)})
    label = apply_task("mlm", sample, {"mask_prob": 0.3})
    tokens = tokenize(value)
    vocab = sample.payloads[label["payloads"]["vocab"]].data.split("\n")
    inputs = sample.payloads[label["payloads"]["input_ids"]].data
    labels = sample.payloads[label["payloads"]["labels"]].data
    assert vocab[:5] == list(SPECIAL_TOKENS) and len(labels) == len(tokens) == len(inputs)
    chosen = set(label["positions"])
    for i, tok in enumerate(tokens):
        if i in chosen:
            assert vocab[labels[i]] == tok == label["targets"][label["positions"].index(i)]
        else:
            assert labels[i] == IGNORE_INDEX and vocab[inputs[i]] == tok
    for pos, action in zip(label["positions"], label["actions"]):
        if action == "keep":
            assert vocab[inputs[pos]] == tokens[pos]
        if action == "random":
            assert inputs[pos] >= len(SPECIAL_TOKENS)


def test_tokenizer_splits_words_and_punctuation():
    assert tokenize("Total: $12.50, thanks!") == ["Total", ":", "$", "12", ".", "50", ",", "thanks", "!"]
    assert tokenize("Ça va?", lowercase=True) == ["ça", "va", "?"]


def test_given_vocabulary_maps_unknown_words_to_unk():
    sample = Sample(payloads={"text": text("alpha beta gamma")})
    label = apply_task("mlm", sample, {"vocab": ["alpha", "gamma"], "mask_prob": 0.01})
    assert "vocab" not in label["payloads"] and label["vocab_size"] == 7
    assert sample.payloads[label["payloads"]["masked_text"]].data.split() in (
        ["alpha", "[UNK]", "gamma"], ["[MASK]", "[UNK]", "gamma"], ["alpha", "[MASK]", "gamma"],
        ["alpha", "[UNK]", "[MASK]"])


def test_shares_over_one_are_refused():
    with pytest.raises(SynthError, match="mask_token_prob \\+ random_token_prob"):
        apply_task("mlm", Sample(payloads={"text": text("a b")}), {"mask_token_prob": 0.9, "random_token_prob": 0.2})


def test_image_sample_is_refused():
    with pytest.raises(SynthError, match="accepts text samples"):
        apply_task("mlm", Sample(payloads={"image": image(np.zeros((4, 4, 3), np.uint8))}))
