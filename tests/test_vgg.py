"""VGG16 feature extractor: torchvision layout, strict file check, features and perceptual
loss against an independent layer-by-layer computation."""
from __future__ import annotations

import os

import pytest
import torch
from torch import nn

from vidbench.models.vgg import (IMAGE2STYLEGAN_LAYERS, VGG16Features, check_vgg16_state,
                                 layer_names, load_vgg16)
from vidbench.utils.errors import BadInputError, MissingWeightsError
from _vggfile import FILENAME, manual_vgg16, torchvision_shapes, write_random_vgg16
from _weights import one_thread  # noqa: F401




@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    return write_random_vgg16(tmp_path_factory.mktemp("vgg") / FILENAME, seed=3)


@pytest.fixture
def home_with_vgg(vidbench_home, vgg_file):
    dest = vidbench_home / "weights" / FILENAME
    if dest.is_symlink() or dest.exists():
        os.unlink(dest)
    os.symlink(vgg_file, dest)
    return vidbench_home


def _images(n=2, size=24, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_layer_names_follow_torchvision_features():
    import torchvision

    names = layer_names()
    with torch.device("meta"):
        modules = list(torchvision.models.vgg16(weights=None).features)
    assert len(names) == len(modules) == 31
    kinds = {"conv": nn.Conv2d, "relu": nn.ReLU, "pool": nn.MaxPool2d}
    for name, module in zip(names, modules):
        assert isinstance(module, kinds[name[:4]]), name
    assert names.index("conv3_2") == 12 and names.index("relu4_2") == 20
    assert IMAGE2STYLEGAN_LAYERS == ("relu1_1", "relu1_2", "relu3_2", "relu4_2")
    assert len(VGG16Features().features) == 21                 # truncated after relu4_2
    with pytest.raises(ValueError):
        VGG16Features(["conv6_1"])


def test_features_and_loss_match_a_manual_forward(home_with_vgg, vgg_file):
    state = torch.load(vgg_file, weights_only=True)
    layers = ("conv1_1", "relu1_2", "pool2", "conv3_2", "relu4_2")
    net = load_vgg16(layers)
    a, b = _images(seed=1), _images(seed=2)
    ref_a, ref_b = manual_vgg16(state, a, "relu4_2"), manual_vgg16(state, b, "relu4_2")
    got = net(a)
    assert list(got) == list(layers)
    for name in layers:
        torch.testing.assert_close(got[name], ref_a[name], rtol=1e-4, atol=1e-5)
    assert (got["conv1_1"] < 0).any()                           # pre-activation kept intact
    expected = sum(((ref_a[n] - ref_b[n]) ** 2).mean(dim=(1, 2, 3)) for n in layers)
    dist = net.distance(a, b)
    assert dist.shape == (2,) and (dist > 0).all()
    torch.testing.assert_close(dist, expected, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(net.distance(a, a), torch.zeros(2))
    x = a.clone().requires_grad_(True)
    net.distance(x, b).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in net.parameters())


def test_default_path_reads_the_registry_file_and_missing_file_says_where(vidbench_home):
    dest = vidbench_home / "weights" / FILENAME
    if dest.is_symlink() or dest.exists():
        os.unlink(dest)
    with pytest.raises(MissingWeightsError) as err:
        load_vgg16()
    message = str(err.value)
    assert str(dest) in message and "vidbench weights import vgg16" in message


def test_strict_key_and_shape_check(tmp_path, vgg_file):
    state = torch.load(vgg_file, weights_only=True)
    assert {k: tuple(v.shape) for k, v in state.items()} == torchvision_shapes()
    check_vgg16_state(state, vgg_file)                          # the full layout passes
    broken = dict(state)
    del broken["classifier.6.bias"]
    broken["features.2.weight"] = torch.zeros(64, 64, 5, 5)
    broken["extra.weight"] = torch.zeros(1)
    path = tmp_path / "broken.pth"
    torch.save(broken, path)
    with pytest.raises(BadInputError) as err:
        load_vgg16(path=path)
    message = str(err.value)
    assert "classifier.6.bias" in message and "features.2.weight" in message
    assert "extra.weight" in message and str(path) in message
    torch.save({k: v for k, v in state.items() if k.startswith("features.")}, path)
    with pytest.raises(BadInputError, match="classifier.0.weight"):
        load_vgg16(path=path)
