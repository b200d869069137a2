"""Reference-statistics cache: content keys, atomic entries, one entry under concurrency,
export/import round trip, mismatches are errors."""
import hashlib
import json
import multiprocessing
import time

import numpy as np
import pytest

from vidbench.metrics.cache import (CACHE_FORMAT, DamagedEntryError, DamagedEntryWarning,
                                    StatsCache, canonical_json, is_stats_file, make_key,
                                    read_stats_file, write_stats_file)
from vidbench.metrics.stats import FeatureStats
from vidbench.utils.errors import BadInputError, VidbenchError

FIELDS = {"kind": "feature-stats", "source_fingerprint": "ab" * 32, "num_items": 30,
          "extractor": {"name": "x", "weights_sha256": "cd" * 32},
          "protocol": {"protocol": "tf-reference", "resize": 224}, "seed": None}


def _stats(n=30, dim=4, seed=0):
    s = FeatureStats()
    s.append(np.random.default_rng(seed).standard_normal((n, dim)))
    return s


def test_key_is_sha256_of_canonical_json_and_stable():
    key, obj = make_key(FIELDS)
    assert obj["cache_format"] == CACHE_FORMAT
    assert key == hashlib.sha256(canonical_json(obj).encode()).hexdigest()
    # Pinned: a change of canonicalisation or format silently orphaning caches fails here.
    assert canonical_json(obj) == (
        '{"cache_format":1,"extractor":{"name":"x","weights_sha256":"' + "cd" * 32 + '"},'
        '"kind":"feature-stats","num_items":30,"protocol":{"protocol":"tf-reference",'
        '"resize":224},"seed":null,"source_fingerprint":"' + "ab" * 32 + '"}')
    assert make_key(dict(reversed(list(FIELDS.items()))))[0] == key  # order-free
    assert make_key({**FIELDS, "extractor": {"weights_sha256": "cd" * 32, "name": "x"}})[0] == key
    for change in ({"num_items": 31}, {"seed": 0}, {"source_fingerprint": "ef" * 32},
                   {"protocol": {"protocol": "tf-reference", "resize": 225}}):
        assert make_key({**FIELDS, **change})[0] != key
    assert make_key({"a": (1, 2)})[0] == make_key({"a": [1, 2]})[0]


def test_miss_then_hit(tmp_path):
    cache = StatsCache(tmp_path)
    key, obj = make_key(FIELDS)
    calls = []

    def compute():
        calls.append(1)
        return _stats()

    first, hit1 = cache.get_or_compute(key, obj, compute)
    second, hit2 = cache.get_or_compute(key, obj, compute)
    assert (hit1, hit2, len(calls)) == (False, True, 1)
    np.testing.assert_array_equal(first.sum_outer, second.sum_outer)
    assert second.num_items == 30
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"{key}.json", f"{key}.lock", f"{key}.npz"]
    side = json.loads((tmp_path / f"{key}.json").read_text())
    assert side["key"] == key and side["key_fields"] == obj and side["num_items"] == 30


def test_default_root_is_vidbench_home(vidbench_home):
    assert StatsCache().root == vidbench_home / "cache" / "stats"


def test_mismatching_entry_is_an_error(tmp_path):
    cache = StatsCache(tmp_path)
    key, obj = make_key(FIELDS)
    other_key, other_obj = make_key({**FIELDS, "protocol": {"protocol": "stylegan-v"}})
    cache.store(other_key, other_obj, _stats())
    # an entry stored under the wrong name (copied by hand, say) is refused, not used
    (tmp_path / f"{other_key}.npz").rename(tmp_path / f"{key}.npz")
    with pytest.raises(BadInputError, match="holds key"):
        cache.get_or_compute(key, obj, _stats)
    with pytest.raises(ValueError, match="key says 30"):
        cache.store(key, obj, _stats(n=31))
    with pytest.raises(VidbenchError, match="not a cache key"):
        cache.path("../etc")


def _worker(root, key, obj, marker_dir, out_queue):
    def compute():
        (marker_dir / f"computed-{multiprocessing.current_process().pid}").touch()
        time.sleep(1.0)
        return _stats(seed=7)

    stats, hit = StatsCache(root).get_or_compute(key, obj, compute)
    out_queue.put((hit, stats.sum.tolist()))


def test_two_processes_same_key_one_entry(tmp_path):
    ctx = multiprocessing.get_context("fork")
    root, markers = tmp_path / "cache", tmp_path / "markers"
    markers.mkdir()
    key, obj = make_key(FIELDS)
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(root, key, obj, markers, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert len(list(markers.iterdir())) == 1          # computed once
    assert sorted(hit for hit, _ in results) == [False, True]
    assert results[0][1] == results[1][1]
    assert sorted(p.suffix for p in root.iterdir()) == [".json", ".lock", ".npz"]
    assert StatsCache(root).load(key, obj) is not None


def test_export_import_round_trip(tmp_path):
    key, obj = make_key({**FIELDS, "num_items": 50})
    stats = _stats(n=50, dim=5)
    path = tmp_path / "shared.npz"
    write_stats_file(path, stats, obj, ddof=1)
    assert is_stats_file(path) and not is_stats_file(tmp_path / "missing.npz")
    with np.load(path) as f:
        np.testing.assert_allclose(f["mu"], stats.mean(), rtol=1e-14)
        np.testing.assert_allclose(f["sigma"], stats.cov(1), rtol=1e-12)
        assert int(f["sigma_ddof"]) == 1 and json.loads(str(f["key_json"])) == obj
    got_key, got_obj, got = read_stats_file(path)
    assert (got_key, got_obj) == (key, obj)
    other = StatsCache(tmp_path / "elsewhere")
    assert other.import_file(path) == (key, True)
    assert other.import_file(path) == (key, False)
    np.testing.assert_array_equal(other.load(key, obj).sum, stats.sum)
    # a file whose statistics contradict its key is refused (digest made to match, so the
    # consistency check is what refuses it)
    bad = tmp_path / "bad.npz"
    arrays = dict(np.load(path))
    arrays["num_items"] = np.array(49)
    arrays["arrays_sha256"] = np.array(_digest_by_hand(arrays))
    np.savez(bad, **arrays)
    with pytest.raises(BadInputError, match="items"):
        read_stats_file(bad)
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(BadInputError, match="not a vidbench statistics file"):
        read_stats_file(tmp_path / "plain.npz")


def test_import_conflicting_entry(tmp_path):
    key, obj = make_key(FIELDS)
    cache = StatsCache(tmp_path / "c")
    cache.store(key, obj, _stats(seed=1))
    write_stats_file(tmp_path / "x.npz", _stats(seed=2), obj)
    with pytest.raises(VidbenchError, match="different statistics"):
        cache.import_file(tmp_path / "x.npz")


def _digest_by_hand(arrays):
    """The documented digest, written out here: SHA-256 over name, dtype, shape and bytes of
    every array but the digest, in name order (strings as their UTF-8 text)."""
    h = hashlib.sha256()
    for name in sorted(k for k in arrays if k != "arrays_sha256"):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(str(a).encode() if a.dtype.kind == "U" else a.tobytes())
    return h.hexdigest()


def _flip_byte_in(path, member="sum_outer.npy"):
    """Flip one byte inside ``member``'s stored data (past its .npy header)."""
    raw = bytearray(path.read_bytes())
    at = raw.index(member.encode()) + len(member) + 160  # zip64 extra + npy header + 12
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_entry_records_a_digest_of_its_arrays(tmp_path):
    key, obj = make_key(FIELDS)
    path = StatsCache(tmp_path).store(key, obj, _stats())
    with np.load(path) as f:
        arrays = dict(f)
    assert str(arrays["arrays_sha256"]) == _digest_by_hand(arrays)
    write_stats_file(tmp_path / "exp.npz", _stats(), obj, ddof=1)
    with np.load(tmp_path / "exp.npz") as f:
        exported = dict(f)
    assert "sigma" in exported and str(exported["arrays_sha256"]) == _digest_by_hand(exported)


@pytest.mark.parametrize("damage", ["flipped-byte", "rewritten-arrays", "no-digest"])
def test_damaged_entry_is_named_and_recomputed(tmp_path, damage):
    cache = StatsCache(tmp_path)
    key, obj = make_key(FIELDS)
    good = _stats(seed=3)
    path = cache.store(key, obj, good)
    arrays = dict(np.load(path))
    if damage == "flipped-byte":
        _flip_byte_in(path)
    elif damage == "rewritten-arrays":   # a valid file with other values, old digest kept
        arrays["sum"] = arrays["sum"] * 1.01
        np.savez(path, **arrays)
    else:
        del arrays["arrays_sha256"]
        np.savez(path, **arrays)
    with pytest.raises(DamagedEntryError) as exc:
        read_stats_file(path)
    assert exc.value.path == str(path)
    calls = []

    def compute():
        calls.append(1)
        return _stats(seed=3)

    with pytest.warns(DamagedEntryWarning, match=key):
        stats, hit = cache.get_or_compute(key, obj, compute)
    assert (hit, len(calls)) == (False, 1)
    np.testing.assert_array_equal(stats.sum, good.sum)
    # the entry was rewritten whole: the next read hits and is clean
    stats2, hit2 = cache.get_or_compute(key, obj, compute)
    assert hit2 and len(calls) == 1
    np.testing.assert_array_equal(stats2.sum_outer, good.sum_outer)


def test_damaged_export_is_refused_on_import(tmp_path):
    key, obj = make_key(FIELDS)
    path = tmp_path / "shared.npz"
    write_stats_file(path, _stats(), obj, ddof=1)
    arrays = dict(np.load(path))
    arrays["mu"] = arrays["mu"] + 1e-6          # looks valid, values altered
    np.savez(path, **arrays)
    cache = StatsCache(tmp_path / "c")
    with pytest.raises(DamagedEntryError, match="do not match the digest"):
        cache.import_file(path)
    assert not cache.path(key).exists()
    _flip_byte_in(path, "sum.npy")
    with pytest.raises(DamagedEntryError, match="cannot read its arrays"):
        cache.import_file(path)
    assert not cache.path(key).exists()


def test_verify_names_every_bad_entry(tmp_path):
    cache = StatsCache(tmp_path)
    keys = []
    for i in range(3):
        key, obj = make_key({**FIELDS, "seed": i})
        cache.store(key, obj, _stats(seed=i))
        keys.append(key)
    assert [r["ok"] for r in cache.verify()] == [True, True, True]
    _flip_byte_in(cache.path(keys[1]))
    recs = {r["key"]: r for r in cache.verify()}
    assert [recs[k]["ok"] for k in keys] == [True, False, True]
    assert "damaged" in recs[keys[1]]["problem"]
