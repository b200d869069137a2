"""`vidbench eval fvd` and `vidbench ref` end to end (fast protocol with random features)."""
import json
import sys
from pathlib import Path

import pytest

from vidbench.metrics.protocols import PROTOCOLS
from vidbench.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fvd_helpers import TEST_PROTOCOL, shapes  # noqa: E402


@pytest.fixture
def test_protocol(monkeypatch, vidbench_home):
    monkeypatch.setitem(PROTOCOLS, TEST_PROTOCOL.name, TEST_PROTOCOL)
    return TEST_PROTOCOL.name


def _fvd_args(proto, *extra):
    return ["eval", "fvd", "--fake", shapes(1), "--real", shapes(2), "--protocol", proto,
            "--no-progress", *extra]


def test_list_protocols(capsys):
    assert main(["eval", "fvd", "--list-protocols"]) == 0
    out = capsys.readouterr().out
    for name in ("tf-reference", "mocogan-hd", "stylegan-v"):
        assert f"{name}: " in out
    assert "128 (area)" in out


def test_json_is_one_object_and_line_is_readable(test_protocol, capsys):
    assert main(_fvd_args(test_protocol, "--json")) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)  # exactly one JSON document
    assert record["metric"] == "fvd" and record["protocol"] == "test-random"
    assert record["num_fake"] == record["num_real"] == 24 and record["real"]["cached"] is False
    assert main(_fvd_args(test_protocol, "--batch-size", "7")) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("FVD[test-random] = ") and "(real statistics from cache)" in line
    assert f"{record['value']:.4f}" in line


def test_dry_run_computes_nothing(test_protocol, capsys, vidbench_home):
    assert main(_fvd_args(test_protocol, "--dry-run", "--json")) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["protocol"] == "test-random" and len(plan["real"]["cache_key"]) == 64
    assert plan["real"]["cached"] is False
    assert not (vidbench_home / "cache").exists()


def test_user_errors_exit_2(test_protocol, capsys):
    assert main(["eval", "fvd", "--fake", shapes(1), "--no-progress"]) == 2
    assert "needs --fake SRC and --real SRC" in capsys.readouterr().err
    assert main(_fvd_args(test_protocol, "--num-real", "99")) == 2
    err = capsys.readouterr().err
    assert "vidbench: error:" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        main(_fvd_args("no-such-protocol"))
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        main(_fvd_args(test_protocol, "--batch-size", "0"))


def test_warning_goes_to_stderr(test_protocol, capsys):
    assert main(["eval", "fvd", "--fake", shapes(1, n=10), "--real", shapes(2, n=10),
                 "--protocol", test_protocol, "--no-progress", "--json"]) == 0
    captured = capsys.readouterr()
    assert "vidbench: warning: 10 samples for 16 features" in captured.err
    assert json.loads(captured.out)["warnings"]


def test_ref_compute_export_import_list(test_protocol, capsys, tmp_path, monkeypatch):
    out = tmp_path / "ref.npz"
    assert main(["ref", "compute", "--dataset", shapes(2), "--protocol", test_protocol,
                 "--no-progress",
                 "--out", str(out), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    key = rec["key"]
    assert out.is_file() and rec["num_items"] == 24 and rec["cached"] is False
    assert main(["ref", "list", "--json"]) == 0
    assert [e["key"] for e in json.loads(capsys.readouterr().out)["entries"]] == [key]
    exported = tmp_path / "by_key.npz"
    assert main(["ref", "export", key, str(exported)]) == 0
    assert capsys.readouterr().out.startswith(key)
    # a fresh home: import the shared file, then eval uses it as a cache hit
    monkeypatch.setenv("VIDBENCH_HOME", str(tmp_path / "other_home"))
    assert main(["ref", "import", str(exported), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "key": key, "imported": True,
        "cache_file": str(tmp_path / "other_home" / "cache" / "stats" / f"{key}.npz")}
    assert main(_fvd_args(test_protocol, "--json")) == 0
    via_cache = json.loads(capsys.readouterr().out)
    assert via_cache["real"]["cached"] is True and via_cache["real"]["cache_key"] == key
    # --real may be the exported file itself
    args = ["eval", "fvd", "--fake", shapes(1), "--real", str(out), "--protocol", test_protocol,
            "--no-progress", "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["value"] == pytest.approx(via_cache["value"], rel=1e-12)
    assert main(["ref", "export", "0" * 64, str(tmp_path / "x.npz")]) == 2
    assert "no cache entry" in capsys.readouterr().err


def test_help_ends_with_example(capsys):
    for argv in (["eval", "--help"], ["eval", "fvd", "--help"], ["ref", "compute", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "example:\n  vidbench " in capsys.readouterr().out


def test_eval_under_torchrun_equals_one_process(test_protocol, capsys, tmp_path, vidbench_home):
    import os
    import subprocess

    assert main(_fvd_args(test_protocol, "--json", "--no-cache")) == 0
    single = json.loads(capsys.readouterr().out)
    here = Path(__file__).resolve().parent
    prefix = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(here.parent)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", str(here / "ddp_worker.py"), "cli", str(prefix), *_fvd_args(test_protocol, "--json")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = json.loads((tmp_path / "out.rank0.txt").read_text())
    assert (tmp_path / "out.rank1.txt").read_text() == ""  # only rank 0 prints
    assert record["value"] == pytest.approx(single["value"], rel=1e-9)
    assert record["num_fake"] == record["num_real"] == 24
    assert record["real"]["cached"] is False
    assert len(list((vidbench_home / "cache" / "stats").glob("*.npz"))) == 1  # rank 0 wrote


def _flip_one_byte(path):
    raw = bytearray(path.read_bytes())
    at = raw.index(b"sum_outer.npy") + len("sum_outer.npy") + 160  # inside its data
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", ["flipped-byte", "rewritten-arrays"])
def test_eval_fvd_names_and_recomputes_a_damaged_entry(test_protocol, capsys, vidbench_home,
                                                       damage):
    import numpy as np

    assert main(_fvd_args(test_protocol, "--json")) == 0
    clean = json.loads(capsys.readouterr().out)
    key = clean["real"]["cache_key"]
    entry = vidbench_home / "cache" / "stats" / f"{key}.npz"
    if damage == "flipped-byte":
        _flip_one_byte(entry)
    else:  # a valid .npz whose values changed (the digest written with it no longer matches)
        arrays = dict(np.load(entry))
        arrays["sum"] = arrays["sum"] * 0.9
        np.savez(entry, **arrays)
    assert main(["ref", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"{key}  BAD  damaged" in out and "1 bad" in out
    assert main(_fvd_args(test_protocol)) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert f"vidbench: warning: reference statistics {entry} are damaged" in captured.err
    assert "computing them again" in captured.err
    line = captured.out.strip()
    assert f"= {clean['value']:.4f}" in line and "from cache" not in line
    # the entry was rewritten: verified again, and the next run reads it
    assert main(["ref", "verify"]) == 0
    assert "1 entries, 0 bad" in capsys.readouterr().out
    assert main(_fvd_args(test_protocol)) == 0
    line = capsys.readouterr().out.strip()
    assert f"= {clean['value']:.4f}" in line and "(real statistics from cache)" in line


def test_ref_import_refuses_an_altered_export(test_protocol, capsys, tmp_path):
    import numpy as np

    out = tmp_path / "ref.npz"
    assert main(["ref", "compute", "--dataset", shapes(2), "--protocol", test_protocol,
                 "--no-progress",
                 "--no-cache", "--out", str(out)]) == 0
    capsys.readouterr()
    arrays = dict(np.load(out))
    arrays["sigma"] = arrays["sigma"] * 2
    np.savez(out, **arrays)
    assert main(["ref", "import", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out}: damaged or altered" in err and "Traceback" not in err
    assert main(["eval", "fvd", "--fake", shapes(1), "--real", str(out), "--protocol",
                 test_protocol, "--no-progress"]) == 2
    assert "do not match the digest" in capsys.readouterr().err
