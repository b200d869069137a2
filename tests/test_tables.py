"""Table rendering from fixture JSONL: exact output, † marking, protocol separation, CSV."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from vidbench.evaluation import records as R
from vidbench.cli import main
from vidbench.utils.errors import VidbenchError
from vidbench.report.tables import TABLES, build_table, get_table, render

PROV = {"git_commit": "abc123", "git_dirty": False, "versions": {"numpy": "2.0"},
        "device": "cpu:test"}


def rec(variant, metric, protocol, value, ts="2024-01-01T00:00:00+00:00", **extra):
    return {"experiment": "ablation-ucf101", "variant": variant, "metric": metric,
            "protocol": protocol, "value": value, "timestamp": ts,
            "cell": f"ablation-ucf101/{variant}/{metric}/{protocol}", **PROV, **extra}


@pytest.fixture
def fixture_results(tmp_path):
    path = tmp_path / "results" / "ablation.jsonl"
    lines = [
        rec("full-128", "fvd", "mocogan-hd", 845.123),
        rec("full-128", "fvd", "mocogan-hd", 840.5, ts="2024-02-01T00:00:00+00:00"),  # re-run
        rec("no-eqn2", "fvd", "mocogan-hd", 795.0, num_fake=512,
            overrides={"num_fake": 512}),
        rec("full-128", "isv", "tganv2", 31.5, std=0.2, runs=[31.3, 31.7], num_runs=2),
        rec("full-128", "fvd", "stylegan-v", 512.25),
        rec("no-pca", "fvd", "mocogan-hd", 901.0),                   # not a paper row
        {**rec("full-256", "fvd", "mocogan-hd", 1.0), "experiment": "ucf101"},  # other table
        {k: v for k, v in rec("full-256", "fvd", "mocogan-hd", 2.0).items() if k != "variant"},
    ]
    for line in lines:
        R.append_result(path, line)
    return path


EXPECTED_MARKDOWN = """\
### Tab. 5 — UCF-101 ablation (frames resized to 128² for evaluation)

| variant | IS ↑ (paper) | IS ↑ [tganv2] | FVD ↓ (paper) | FVD ↓ [mocogan-hd] | FVD ↓ [stylegan-v] |
|---|---|---|---|---|---|
| w/o Eqn. 2 | 28.20 † | – | 790.87 † | 795.00 ‡ | – |
| w/o D_I | 33.22 † | – | 796.67 † | – | – |
| w/o D_V | 33.84 † | – | 867.43 † | – | – |
| Full-128 | 32.36 † | 31.50 ± 0.20 | 838.09 † | 840.50 | 512.25 |
| Full-256 | 33.95 † | – | 700.00 † | – | – |
| no-pca | – | – | – | 901.00 | – |

† reported in the paper, not measured by vidbench: MoCoGAN-HD (Tian et al., ICLR 2021, arXiv 2104.15069), Tab. 5 (UCF-101 ablation; all frames resized to 128² for evaluation)

METRIC [protocol]: measured by vidbench under that named protocol, from result lines with experiment 'ablation-ucf101' (± std over runs where the protocol repeats)

‡ sample counts differ from the protocol's: not comparable with numbers under it

– not reported / not measured

1 result line(s) of experiment 'ablation-ucf101' have no 'variant' and are not shown

Full-128 / FVD ↓ [mocogan-hd]: 2 result lines; the latest is shown
"""


def test_markdown_exact(fixture_results):
    records, problems = R.read_results(fixture_results)
    assert problems == []
    assert render(build_table("ablation", records), "markdown") == EXPECTED_MARKDOWN


def test_protocols_never_share_a_column(fixture_results):
    records, _ = R.read_results(fixture_results)
    table = build_table("ablation", records)
    seen = set()
    for i, col in enumerate(table.columns):
        assert (col.metric, col.protocol) not in seen
        seen.add((col.metric, col.protocol))
        for key, _ in table.rows:
            cell = table.cell(key, i)
            if cell.kind == "reported":
                assert col.protocol is None and cell.text.endswith("†")
                assert cell.provenance["origin"] and cell.provenance["printed"]
            elif cell.kind == "measured":
                assert cell.provenance["protocol"] == col.protocol and "†" not in cell.text
    full = dict(table.rows)
    assert full["full-128"] == "Full-128"
    fvd_sv = [i for i, c in enumerate(table.columns) if c.protocol == "stylegan-v"][0]
    assert table.cell("full-128", fvd_sv).value == 512.25
    assert table.cell("full-128", fvd_sv).provenance["git_commit"] == "abc123"


def test_text_and_json(fixture_results):
    records, _ = R.read_results(fixture_results)
    table = build_table("ablation", records)
    text = render(table, "text")
    lines = text.splitlines()
    assert lines[0].startswith("Tab. 5") and lines[2].split()[:3] == ["variant", "IS", "↑"]
    assert "Full-128    32.36 †       31.50 ± 0.20" in text
    data = json.loads(render(table, "json"))
    assert [c["kind"] for c in data["columns"]] == ["reported", "measured", "reported",
                                                   "measured", "measured"]
    row = next(r for r in data["rows"] if r["key"] == "full-128")
    assert row["cells"][1] == {"text": "31.50 ± 0.20", "kind": "measured", "value": 31.5,
                               "std": 0.2, "provenance": row["cells"][1]["provenance"]}
    assert row["cells"][0]["provenance"]["table"].startswith("Tab. 5")


def test_csv_read_back_by_pandas(fixture_results):
    records, _ = R.read_results(fixture_results)
    df = pd.read_csv(io.StringIO(render(build_table("ablation", records), "csv")))
    labels = ["IS ↑ (paper)", "IS ↑ [tganv2]", "FVD ↓ (paper)", "FVD ↓ [mocogan-hd]",
              "FVD ↓ [stylegan-v]"]
    assert [c for c in df.columns if not c.endswith((" mark", " std"))] == ["variant", *labels]
    assert all(df[label].dtype == float for label in labels)  # numbers; the mark has a column
    assert list(df["variant"]) == ["w/o Eqn. 2", "w/o D_I", "w/o D_V", "Full-128", "Full-256",
                                   "no-pca"]
    assert df["FVD ↓ (paper)"].iloc[4] == 700.0
    assert (df["FVD ↓ (paper) mark"].iloc[:5] == "reported").all()
    assert pd.isna(df["FVD ↓ (paper)"].iloc[5])           # empty cells are empty in CSV
    assert pd.isna(df["FVD ↓ (paper) mark"].iloc[5])
    sv = df["FVD ↓ [stylegan-v]"]
    assert sv.iloc[3] == 512.25 and sv.isna().sum() == 5
    assert df["FVD ↓ [stylegan-v] mark"].iloc[3] == "measured"


def test_reported_only_tables_render():
    for name in TABLES:
        table = build_table(name, [])
        assert all(c.kind == "reported" for c in table.columns)
        assert all(cell.text.endswith("†") for cell in table.cells.values())
        assert "nothing measured yet" in render(table, "text")
    faceforensics = render(build_table("faceforensics", []), "markdown")
    assert "| GT | 9.02 † | 0.2935 † |" in faceforensics
    assert get_table("fvd") is get_table("ucf101")
    with pytest.raises(VidbenchError, match="unknown table"):
        get_table("tab9")


def test_cli(fixture_results, tmp_path, capsys):
    with open(fixture_results, "ab") as fh:               # an interrupted append
        fh.write(R.encode_record(rec("full-256", "fvd", "mocogan-hd", 3.0))[:30])
    assert main(["table", "ablation", "--results", str(fixture_results.parent),
                 "--format", "markdown"]) == 0
    out, err = capsys.readouterr()
    assert out == EXPECTED_MARKDOWN
    assert "warning" in err and ":9: incomplete last line" in err
    target = tmp_path / "t.csv"
    assert main(["table", "ablation", "--results", str(fixture_results), "--format", "csv",
                 "--out", str(target)]) == 0
    assert pd.read_csv(target).shape[0] == 6
    assert main(["table", "list"]) == 0
    assert "ablation-ucf101" in capsys.readouterr().out
    assert main(["table", "sky", "--results", str(tmp_path / "missing.jsonl")]) == 2
    with pytest.raises(SystemExit):
        main(["table", "tab9"])


def test_reduced_preset_lines_sit_beside_the_papers_cells_in_their_own_column():
    """The demo's lines (experiment ``ablation`` on ``shapes`` at preset ``tiny``) fill Tab. 5's
    rows next to the reported numbers, in a column that names the data set and the preset."""
    recs = [R.complete_record({"metric": "fvd", "protocol": "mocogan-hd", "value": v,
                               "experiment": "ablation", "dataset": "shapes", "preset": "tiny",
                               "variant": row, **({"num_runs": 3, "std": 2.5} if s else {})})
            for row, v, s in (("no-eqn2", 500.0, True), ("untrained", 700.0, False))]
    recs.append(R.complete_record({"metric": "fvd", "protocol": "mocogan-hd", "value": 400.0,
                                   "experiment": "ablation", "dataset": "shapes",
                                   "preset": "tiny", "variant": "random-walk-w",
                                   "row_label": "random walk in W"}))
    table = build_table("ablation", recs)
    labels = [c.label for c in table.columns]
    assert labels == ["IS ↑ (paper)", "FVD ↓ (paper)", "FVD ↓ [mocogan-hd, shapes, tiny]"]
    assert table.cell("no-eqn2", 1).text == "790.87 †"          # the paper's, same row
    assert table.cell("no-eqn2", 2).text == "500.00 ± 2.50"
    assert table.cell("untrained", 2).text == "700.00"
    assert ("untrained", "untrained") in table.rows                # no label: the key
    assert ("random-walk-w", "random walk in W") in table.rows      # the line's own label
    assert ("no-eqn2", "w/o Eqn. 2") in table.rows                  # the paper's name wins
