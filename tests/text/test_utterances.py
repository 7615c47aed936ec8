"""utterances: spans exact under every augmenter (property test), grammar, determinism, bad input."""
from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from pydantic import ValidationError

from scenes.utterances import UtterancesParams, UtterancesScene
from synth.errors import SynthError
from synth.text.noise import AUGMENTERS
from synth.text.sources import faker_call, faker_pool
from synth.text.spans import Ambiguous, assemble_tokens, noise_sentence, tokenize

SCENE = UtterancesScene()
INTENTS = {
    "book_flight": ["fly from {from:city} to {to:city} [on {date:date}] (please|thanks|)",
                    "i'd like a flight to {to:city}, it's for {who:name}"],
    "weather": ["(what's|how's) the weather in {city} [tomorrow]?", "{city} weather"],
}
SLOTS = {"city": {"faker": "city"}, "date": {"faker": "date"}, "name": {"values": ["Ann O'Neil", "Bo", "Li Wei"]}}


def params(augmenters=(), **kw):
    return UtterancesParams(intents=INTENTS, slots=SLOTS, noise={"augmenters": list(augmenters), "word_p": 0.4,
                                                                 "char_p": 0.4}, **kw)


@pytest.mark.parametrize("augmenter", AUGMENTERS)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_spans_cover_exactly_the_noised_entity_text(augmenter, seed):
    smp = SCENE.render(params([augmenter]), np.random.default_rng(seed))
    text, spans = smp.labels["text"], smp.labels["spans"]
    assert smp.payloads["text"].data == text
    assert [s[2] for s in spans] == [s[2] for s in smp.labels["clean_spans"]]  # no entity lost or invented
    end = 0
    for start, stop, label in spans:
        piece = text[start:stop]
        assert start >= end and piece and piece == piece.strip(), (text, spans)
        end = stop
    assert "  " not in text and text == text.strip()
    if augmenter.startswith("word") or augmenter in ("spelling", "synonym"):
        assert " ' " not in text and " ,"not in text  # no tokenizer artefacts ("It ' s", "Paris ,")


def test_clean_spans_hold_the_slot_values():
    for seed in range(30):
        lab = SCENE.render(params(), np.random.default_rng(seed)).labels
        assert lab["text"] == lab["clean_text"]
        for start, stop, label in lab["spans"]:
            if label == "who":
                assert lab["text"][start:stop] in SLOTS["name"]["values"]
        assert "it's" in lab["text"] or lab["intent"] != "book_flight" or lab["text"].startswith("fly")


def test_chain_of_augmenters_is_deterministic_despite_global_state():
    p = params(["keyboard", "word_swap", "ocr"])
    random.seed(1); np.random.seed(1)
    a = SCENE.render(p, np.random.default_rng(7)).labels
    random.seed(2); np.random.seed(3)
    b = SCENE.render(p, np.random.default_rng(7)).labels
    assert a == b and a["text"] != a["clean_text"]


def test_intents_are_drawn_and_optional_parts_vary():
    texts = {SCENE.render(params(), np.random.default_rng(s)).labels["template"] for s in range(40)}
    assert len(texts) == 4


@pytest.mark.parametrize("template, message", [
    ("fly to {to:town}", "undefined slot 'town'"),
    ("fly to {to:city", "never closed"),
    ("fly (to|from {city}", "missing '\\)'"),
    ("fly to] {city}", "unbalanced ']'"),
])
def test_bad_templates_are_rejected_when_params_are_validated(template, message):
    with pytest.raises(ValidationError, match=message):
        UtterancesParams(intents={"x": [template]}, slots={"city": {"faker": "city"}})


def test_unknown_faker_provider_and_augmenter():
    p = UtterancesParams(intents={"x": ["in {city}"]}, slots={"city": {"faker": "citty"}})
    with pytest.raises(SynthError, match="unknown Faker provider 'citty'.*city") as err:
        SCENE.check(p)
    assert err.value.exit_code == 2
    with pytest.raises(ValidationError, match="unknown augmenter 'keybord'.*keyboard"):
        params(["keybord"])


def test_empty_slot_file(tmp_path):
    (tmp_path / "c.txt").write_text("\n")
    p = UtterancesParams(intents={"x": ["in {city}"]}, slots={"city": {"file": str(tmp_path / "c.txt")}})
    with pytest.raises(SynthError, match="is empty"):
        SCENE.check(p)


def test_synonym_without_wordnet_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTH_WORDNET_DIR", str(tmp_path))
    with pytest.raises(SynthError, match="wordnet-base"):
        SCENE.check(params(["synonym"]))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), chain=st.lists(st.sampled_from(AUGMENTERS), min_size=2, max_size=3))
def test_spans_exact_under_chains_of_augmenters(seed, chain):
    lab = SCENE.render(params(chain), np.random.default_rng(seed)).labels
    assert [s[2] for s in lab["spans"]] == [s[2] for s in lab["clean_spans"]]
    previous_end = 0
    for start, stop, _label in lab["spans"]:
        piece = lab["text"][start:stop]
        assert start >= previous_end and piece and piece == piece.strip()
        previous_end = stop
    assert "  " not in lab["text"]


def test_whole_sentence_path_maps_mixed_tokens_and_moves_entities_whole():
    clean = "fly to New York, it's for Bo"
    spans = [[7, 15, "to"], [26, 28, "who"]]
    tokens = tokenize(clean, spans)
    assert tokens[3] == ("York,", (("York", 0), (",", -1)))
    assert assemble_tokens(tokens, ["to", "who"]) == (clean, spans)
    hits = 0
    for seed in range(40):
        random.seed(seed); np.random.seed(seed)
        try:
            text, got = assemble_tokens(noise_sentence(tokens, ["word_swap", "char_insert"], 0.3, 0.3, True), ["to", "who"])
        except Ambiguous:
            continue
        hits += 1
        assert [s[2] for s in got] == ["to", "who"] and len(text.split()) == len(clean.split())
    assert hits >= 30  # the one-call path, not the per-piece fallback, serves most draws


def test_protected_entities_are_left_exactly_as_drawn():
    p = params(["keyboard", "char_insert", "word_swap"]).model_copy(
        update={"noise": params(["keyboard", "char_insert", "word_swap"]).noise.model_copy(update={"entities": False})})
    for seed in range(30):
        lab = SCENE.render(p, np.random.default_rng(seed)).labels
        clean = [lab["clean_text"][a:b] for a, b, _ in lab["clean_spans"]]
        assert [lab["text"][a:b] for a, b, _ in lab["spans"]] == clean


def test_text_the_markers_cannot_carry_falls_back_to_exact_per_piece_noise():
    p = UtterancesParams(intents={"x": ["go to {city} now please"]}, slots={"city": {"values": ["Ur\ue000bino"]}},
                         noise={"augmenters": ["keyboard"], "word_p": 0.5, "char_p": 0.5})
    with pytest.raises(Ambiguous):
        tokenize("go to Ur\ue000bino", [[6, 15, "city"]])
    for seed in range(10):
        lab = SCENE.render(p, np.random.default_rng(seed)).labels
        (start, stop, label), = lab["spans"]
        assert label == "city" and lab["text"][start:stop] == lab["text"][start:stop].strip() != ""


def test_faker_draws_come_from_the_sample_stream_only():
    random.seed(0)
    state = random.getstate()
    a = faker_call("city", "en_US", np.random.default_rng(5))
    b = faker_call("city", "en_US", np.random.default_rng(5))
    assert a == b and random.getstate() == state
    assert len({faker_call("city", "en_US", np.random.default_rng(s)) for s in range(20)}) > 15


def test_faker_pool_is_the_same_everywhere_and_slots_draw_from_it():
    small, large = faker_pool("city", "en_US", False, 50, "f"), faker_pool("city", "en_US", False, 200, "f")
    assert large[:50] == small and len(set(large)) > 150
    p = UtterancesParams(intents={"x": ["to {city}"]}, slots={"city": {"faker": "city", "pool": 50}})
    for seed in range(20):
        lab = SCENE.render(p, np.random.default_rng(seed)).labels
        (start, stop, _), = lab["spans"]
        assert lab["text"][start:stop] in small
