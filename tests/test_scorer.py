"""The learned answer scorer: versioned, reproducible from its versioned training features."""

import json

import numpy as np
import pytest

from eval.scorer import (
    FEATURES_PATH,
    choose_threshold,
    fit_model,
    outcomes,
    probabilities,
    questions_of,
    read_rows,
)
from server.engine.scorer import FEATURES, MODEL_PATH, LearnedScorer


def test_refitting_on_the_versioned_features_reproduces_the_versioned_model():
    model = json.loads(MODEL_PATH.read_text())
    rows = read_rows(FEATURES_PATH)
    train = [row for row in rows if row["split"] == "train"]
    dev = [row for row in rows if row["split"] == "dev"]
    assert not any(row["split"] == "test" for row in rows), "the test split must never be fitted on"
    means, scales, weights, intercept = fit_model(train)
    assert np.allclose(weights, model["weights"], atol=1e-5) and intercept == pytest.approx(
        model["intercept"], abs=1e-5
    )
    assert np.allclose(means, model["means"], atol=1e-5) and np.allclose(
        scales, model["scales"], atol=1e-5
    )
    scores = probabilities(dev, means, scales, weights, intercept)
    threshold, _ = choose_threshold(
        outcomes(dev, scores, questions_of(dev)), model["threshold_max_false_abstention"]
    )
    assert threshold == model["threshold"]


def test_the_scorer_prefers_a_sentence_that_answers_to_one_that_only_shares_words():
    scorer = LearnedScorer.load()
    named = dict.fromkeys(FEATURES, 0.0)
    answering = {
        **named,
        "semantic": 0.7,
        "coverage": 0.8,
        "passage_prior": 1.0,
        "term_min": 1.0,
        "term_mean": 1.0,
        "passage_terms": 1.0,
        "name_share": 1.0,
        "novelty": 0.6,
        "has_candidate": 1.0,
        "log_length": 3.0,
    }
    off_topic = {
        **answering,
        "semantic": 0.1,
        "coverage": 0.0,
        "passage_prior": 0.1,
        "term_min": 0.0,
        "term_mean": 0.05,
        "passage_terms": 0.2,
        "name_share": 0.0,
        "has_candidate": 0.0,
    }
    p = [
        scorer.probability(np.array([values[f] for f in FEATURES]))
        for values in (answering, off_topic)
    ]
    assert p[0] > scorer.threshold > p[1]
