"""DiffAugment's translation and cutout of the discriminator's inputs (train image --augment)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vidbench.train.diffaugment import cutout, diff_augment, parse_policy, translate
from vidbench.train.image import train_image
from vidbench.train.image_config import ImageTrainConfig, config_from_dict
from vidbench.utils.errors import VidbenchError


def _shift_by_hand(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """out[y, x] = img[y - dy, x - dx] where that pixel exists, else 0 (written with loops)."""
    c, h, w = img.shape
    out = np.zeros_like(img)
    for y in range(h):
        for x in range(w):
            if 0 <= y - dy < h and 0 <= x - dx < w:
                out[:, y, x] = img[:, y - dy, x - dx]
    return out


def test_translation_moves_each_image_by_its_own_shift_and_fills_with_zero():
    x = torch.randn(3, 2, 7, 6)
    dy, dx = torch.tensor([2, -3, 0]), torch.tensor([-1, 0, 5])
    got = translate(x, dy, dx).numpy()
    for i in range(3):
        np.testing.assert_array_equal(got[i], _shift_by_hand(x[i].numpy(), int(dy[i]), int(dx[i])))


def test_cutout_zeroes_exactly_the_square_around_the_centre():
    x = torch.ones(2, 3, 8, 8)
    got = cutout(x, torch.tensor([0, 5]), torch.tensor([3, 7]), side=4).numpy()
    want = np.ones((2, 3, 8, 8), np.float32)
    want[0, :, 0:2, 1:5] = 0          # rows -2..1 clipped to 0..1, columns 1..4
    want[1, :, 3:7, 5:8] = 0          # rows 3..6, columns 5..8 clipped to 5..7
    np.testing.assert_array_equal(got, want)


def test_policy_draws_from_the_given_generator_and_passes_gradients():
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    a = diff_augment(x, ("translation", "cutout"), torch.Generator().manual_seed(3))
    b = diff_augment(x, ("translation", "cutout"), torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, x)
    a.sum().backward()
    assert x.grad is not None and 0 < (x.grad == 0).float().mean() < 1
    gen = torch.Generator().manual_seed(3)
    state = gen.get_state()
    assert diff_augment(x, (), gen) is x and torch.equal(gen.get_state(), state)


def test_unknown_policy_is_refused_by_name():
    assert parse_policy(" translation , cutout,") == ("translation", "cutout")
    with pytest.raises(ValueError, match="colour"):
        parse_policy("translation,colour")
    with pytest.raises(VidbenchError, match="augment"):
        ImageTrainConfig(augment="flip")


SMALL = {"dataset": "shapes:num_videos=4,length=4,resolution=32", "size": 16, "style_dim": 16,
         "n_mlp": 1, "channels": 8, "batch": 4, "log_every": 1, "sample_grid": 2,
         "augment": "translation,cutout", "r1_every": 2}


def test_augmented_training_resumes_exactly_and_differs_from_plain(tmp_path):
    full = ImageTrainConfig(**{**SMALL, "steps": 4, "checkpoint_every": 2})
    train_image(full, tmp_path / "full", progress=False)
    train_image(config_from_dict({"steps": 2}, full), tmp_path / "split", progress=False)
    train_image(full, tmp_path / "split", resume=True, progress=False)

    def losses(run, key="d_loss"):
        return [json.loads(ln)[key] for ln in (run / "log.jsonl").read_text().splitlines()]

    assert losses(tmp_path / "full") == losses(tmp_path / "split")
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "checkpoint.pt", weights_only=True)
    assert all(torch.equal(a["d"][k], b["d"][k]) for k in a["d"])
    plain = config_from_dict({"augment": ""}, full)
    train_image(plain, tmp_path / "plain", progress=False)
    assert losses(tmp_path / "plain")[0] != losses(tmp_path / "full")[0]
