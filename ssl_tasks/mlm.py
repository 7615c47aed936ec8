"""Masked language modelling (BERT): 15% of tokens chosen; of those 80% [MASK], 10% random, 10% kept.

Tokenizer: words (`\\w+`, Unicode-aware) and single punctuation marks, optionally lower-cased; no
downloads. The vocabulary is the recipe's `vocab` list when given, else the sorted distinct tokens of
the text itself (stored with the sample, since ids mean nothing without it). Ids 0-4 are special.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np
from pydantic import Field

from synth import Sample, array, text_payload

from .base import Task, TaskParams, input_text

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
UNK_ID, MASK_ID = 1, 4
IGNORE_INDEX = -100  # the label of positions that are not predicted (PyTorch's cross-entropy default)
_TOKEN_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def tokenize(value: str, lowercase: bool = False) -> list[str]:
    return _TOKEN_RE.findall(value.lower() if lowercase else value)


def build_vocab(tokens: list[str], given: list[str] | None) -> list[str]:
    words = given if given is not None else sorted(set(tokens))
    return list(SPECIAL_TOKENS) + [w for w in dict.fromkeys(words) if w not in SPECIAL_TOKENS]


class MlmParams(TaskParams):
    mask_prob: float = Field(0.15, gt=0, lt=1, description="Probability that a token is chosen for prediction.")
    mask_token_prob: float = Field(0.8, ge=0, le=1, description="Of chosen tokens, the share replaced by [MASK].")
    random_token_prob: float = Field(0.1, ge=0, le=1, description="Of chosen tokens, the share replaced by a random "
                                                                  "vocabulary token; the rest are kept unchanged.")
    lowercase: bool = Field(False, description="Lower-case the text before tokenising.")
    vocab: list[str] | None = Field(None, description="Vocabulary (without special tokens); default: the "
                                                      "distinct tokens of the sample's own text.")


class Mlm(Task):
    name = "mlm"
    version = "1"
    modalities = ("text",)
    Params = MlmParams

    def check(self, p: MlmParams) -> None:
        if p.mask_token_prob + p.random_token_prob > 1:
            raise ValueError(f"mask_token_prob + random_token_prob must be at most 1, got "
                             f"{p.mask_token_prob} + {p.random_token_prob}")

    def run(self, sample: Sample, p: MlmParams, rng: np.random.Generator) -> dict[str, Any]:
        tokens = tokenize(input_text(self, sample), p.lowercase)
        vocab = build_vocab(tokens, p.vocab)
        ids_of = {w: i for i, w in enumerate(vocab)}
        original = np.array([ids_of.get(t, UNK_ID) for t in tokens], dtype=np.int32)
        n = len(tokens)
        chosen = rng.random(n) < p.mask_prob
        action = rng.random(n)
        to_mask = chosen & (action < p.mask_token_prob)
        to_random = chosen & (action >= p.mask_token_prob) & (action < p.mask_token_prob + p.random_token_prob)
        inputs = original.copy()
        inputs[to_mask] = MASK_ID
        # random replacements come from the non-special vocabulary, as BERT draws from its word pieces
        if len(vocab) > len(SPECIAL_TOKENS):
            inputs[to_random] = rng.integers(len(SPECIAL_TOKENS), len(vocab), size=int(to_random.sum()))
        else:  # an empty vocabulary leaves nothing to draw from
            inputs[to_random] = UNK_ID
        labels = np.where(chosen, original, IGNORE_INDEX).astype(np.int32)
        positions = np.flatnonzero(chosen)
        kinds = np.where(to_mask, "mask", np.where(to_random, "random", "keep"))
        payloads = {"input_ids": self.put(sample, "input_ids", array(inputs)),
                    "labels": self.put(sample, "labels", array(labels)),
                    "masked_text": self.put(sample, "masked_text", text_payload(" ".join(vocab[i] for i in inputs)))}
        if p.vocab is None:
            payloads["vocab"] = self.put(sample, "vocab", text_payload("\n".join(vocab)))
        return {
            "num_tokens": n,
            "positions": [int(i) for i in positions],
            "targets": [tokens[i] for i in positions],
            "actions": [str(kinds[i]) for i in positions],
            "vocab_size": len(vocab),
            "vocab_sha256": hashlib.sha256("\n".join(vocab).encode()).hexdigest(),
            "payloads": payloads,
        }
