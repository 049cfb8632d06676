"""The GPU plans parse before a (rare, timed) GPU loan is spent on them."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLANS = sorted((ROOT / "scripts" / "plans").glob("*.json"))


def _gpu_train():
    spec = importlib.util.spec_from_file_location("gpu_train", ROOT / "scripts" / "gpu_train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("plan", PLANS, ids=[p.name for p in PLANS])
def test_plan_runs_are_valid_train_commands(plan):
    from srcnn_plugin import list_models
    from srcnn_plugin.cli import build_parser

    runs = _gpu_train().load_plan(plan)
    # A device call brings back 8 files: env.txt, runs.json and one weights file per run.
    assert len(runs) <= 6
    parser = build_parser()
    for run in runs:
        argv = ["train", "imgs", "--out", "o", "--scales", run["scale"], *run["args"]]
        args = parser.parse_args(argv)
        assert f"srcnn-9-5-5-x{run['scale']}" in list_models()
        assert all(0 < f <= 1 for f in args.hr_scales)


def test_load_plan_refuses_duplicate_names(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps([{"name": "a", "scale": 4}, {"name": "a", "scale": 3}]))
    with pytest.raises(ValueError, match="unique"):
        _gpu_train().load_plan(bad)
    bad.write_text(json.dumps([{"name": "a"}]))
    with pytest.raises(ValueError, match="needs 'scale'"):
        _gpu_train().load_plan(bad)
