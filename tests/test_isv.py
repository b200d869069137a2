"""Video Inception Score math and presets against hand-worked values and scipy."""
import dataclasses

import numpy as np
import pytest
from scipy.stats import entropy

from vidbench.metrics.isv import (IS_PROTOCOLS, compute_is, get_is_protocol, inception_score,
                                  split_scores)
from vidbench.utils.errors import VidbenchError


def test_hand_worked_two_classes_two_samples():
    # p1 = (1, 0), p2 = (1/2, 1/2); p(y) = (3/4, 1/4)
    # KL1 = log(4/3); KL2 = 1/2 log(2/3) + 1/2 log 2 = 1/2 log(4/3); IS = exp(3/4 log(4/3))
    probs = np.array([[1.0, 0.0], [0.5, 0.5]])
    for eps, placement in ((0.0, "log"), (1e-20, "log"), (1e-20, "shift")):
        mean, std = inception_score(probs, splits=1, eps=eps, eps_placement=placement)
        assert mean == pytest.approx(1.2408064788027995, rel=1e-14) and std == 0.0


def test_identical_predictions_score_one():
    p = np.random.default_rng(0).dirichlet(np.ones(101))
    probs = np.tile(p, (64, 1))
    for placement in ("log", "shift"):
        assert inception_score(probs, 4, 1e-20, placement)[0] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("k,splits", [(2, 1), (7, 1), (101, 1), (10, 3)])
def test_uniform_one_hot_scores_k(k, splits):
    probs = np.tile(np.eye(k), (splits, 1))       # every split holds each class once
    mean, std = inception_score(probs, splits=splits, eps=1e-20)
    assert mean == pytest.approx(k, rel=1e-12) and std == pytest.approx(0.0, abs=1e-9)


def test_matches_scipy_entropy_on_random_probabilities():
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.full(101, 0.3), size=300)
    splits = 3
    ref = []
    for part in np.array_split(probs, splits):   # 300 / 3: same blocks as i*n//splits
        p_y = part.mean(axis=0)
        ref.append(np.exp(np.mean([entropy(p, p_y) for p in part])))
    mean, std = inception_score(probs, splits=splits, eps=0.0)
    assert mean == pytest.approx(np.mean(ref), rel=1e-12)
    assert std == pytest.approx(np.std(ref), rel=1e-9)
    # tiny epsilons do not change the value
    assert inception_score(probs, splits, 1e-20, "shift")[0] == pytest.approx(mean, rel=1e-12)


def test_eps_placements_differ_as_their_formulas_say():
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(5), size=40)
    eps = 0.05
    q = p + eps
    shift = np.exp(np.mean(np.sum(q * (np.log(q) - np.log(q.mean(0))), axis=1)))
    log = np.exp(np.mean(np.sum(p * (np.log(p + eps) - np.log(p.mean(0) + eps)), axis=1)))
    assert split_scores(p, 1, eps, "shift")[0] == pytest.approx(shift, rel=1e-13)
    assert split_scores(p, 1, eps, "log")[0] == pytest.approx(log, rel=1e-13)
    assert abs(shift - log) > 1e-3


def test_runs_protocol_mean_and_std_over_runs():
    proto = dataclasses.replace(get_is_protocol("tganv2"), num_samples=50, num_runs=3)
    probs = np.random.default_rng(3).dirichlet(np.ones(101) * 0.5, size=150)
    r = compute_is(probs, proto)
    runs = [inception_score(probs[i * 50:(i + 1) * 50], 1, 1e-20, "shift")[0] for i in range(3)]
    assert r["value"] == pytest.approx(np.mean(runs), rel=1e-13)
    assert r["std"] == pytest.approx(np.std(runs), rel=1e-10)
    assert r["protocol"] == "tganv2" and len(r["scores"]) == 3
    with pytest.raises(VidbenchError, match="needs exactly 150"):
        compute_is(probs[:149], proto)


def test_stylegan_v_shuffles_with_randomstate_42_then_splits():
    proto = dataclasses.replace(get_is_protocol("stylegan-v-isv"), num_samples=100)
    probs = np.random.default_rng(4).dirichlet(np.ones(101) * 0.5, size=100)
    shuffled = probs.copy()
    np.random.RandomState(42).shuffle(shuffled)
    r = compute_is(probs, proto)
    mean, std = inception_score(shuffled, splits=10, eps=0.0)
    assert (r["value"], r["std"]) == pytest.approx((mean, std), rel=1e-13)
    assert r["value"] != pytest.approx(inception_score(probs, 10, 0.0)[0], rel=1e-6)


def test_presets_follow_the_spec_table():
    assert {"tganv2", "tgan-v1", "stylegan-v-isv", "mocogan-hd", "mocogan-hd-v1crop"} <= set(IS_PROTOCOLS)
    v2 = IS_PROTOCOLS["tganv2"]
    assert (v2.num_samples, v2.num_runs, v2.splits, v2.eps, v2.eps_placement) == (2048, 10, 1, 1e-20, "shift")
    v1 = IS_PROTOCOLS["tgan-v1"]
    assert (v1.num_samples, v1.splits, v1.eps, v1.input_mode) == (9984, 1, 1e-7, "tgan-v1")
    sv = IS_PROTOCOLS["stylegan-v-isv"]
    assert (sv.num_samples, sv.splits, sv.eps, sv.shuffle_seed) == (2048, 10, 0.0, 42)
    assert IS_PROTOCOLS["mocogan-hd"].input_mode == "mocogan-hd"
    # TGAN v1 ran its C3D in training mode: the tgan-v1 protocol keeps dropout on, the
    # eval-mode variant is its own protocol, otherwise equal
    assert (v1.dropout_runs, v1.dropout_seed) == (10, 0)
    v1e = IS_PROTOCOLS["tgan-v1-eval"]
    assert v1e.dropout_runs == 0 and dataclasses.replace(v1e, name=v1.name, dropout_runs=10,
                                                         description=v1.description,
                                                         notes=v1.notes) == v1
    with pytest.raises(VidbenchError, match="unknown IS protocol"):
        get_is_protocol("isv-made-up")


def test_dropout_runs_score_each_block_and_report_mean_and_std():
    """[N, R*K] rows: each dropout run's block is scored with TGAN v1's formula (written out
    here), the value is the mean and the std the population std over the R runs."""
    rng = np.random.default_rng(3)
    blocks = [rng.dirichlet(np.full(5, 0.3), size=8) for _ in range(3)]
    proto = dataclasses.replace(get_is_protocol("tgan-v1"), num_samples=8, dropout_runs=3)

    def v1(p, eps=1e-7):
        return float(np.exp((p * (np.log(p + eps) - np.log(p.mean(axis=0) + eps))).sum(1).mean()))

    r = compute_is(np.concatenate(blocks, axis=1), proto)
    expected = [v1(b) for b in blocks]
    assert r["dropout_values"] == pytest.approx(expected, rel=1e-12)
    assert (r["value"], r["std"]) == pytest.approx((np.mean(expected), np.std(expected)),
                                                   rel=1e-12)
    assert r["std_over"] == "dropout runs" and r["num_samples"] == 8
    with pytest.raises(VidbenchError, match="one block per dropout run"):
        compute_is(np.concatenate(blocks, axis=1)[:, :14], proto)


@pytest.mark.parametrize("probs,match", [
    (np.array([[0.5, 0.6]]), "sum to 1"),
    (np.array([[1.5, -0.5]]), "non-negative"),
    (np.ones(3) / 3, r"\[N, K\]"),
])
def test_bad_probabilities_are_user_errors(probs, match):
    with pytest.raises(VidbenchError, match=match):
        inception_score(probs)


def test_too_many_splits_is_an_error():
    with pytest.raises(VidbenchError, match="splits"):
        inception_score(np.eye(3), splits=4)
