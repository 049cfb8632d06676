import subprocess
import sys
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_is_light():
    code = (
        "import sys, srcnn_plugin; bad = [m for m in ('torch', 'napari', 'qtpy', 'PyQt5', "
        "'cv2', 'magicgui') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


def test_manifest_and_data_ship_in_package():
    pkg = resources.files("srcnn_plugin")
    assert (pkg / "napari.yaml").read_text().startswith("name: srcnn-plugin")
    assert (pkg / "py.typed").is_file()
    assert (pkg / "data" / "butterfly_lr_x2.png").is_file()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    cmd = 'pip install torch==2.13.0 && pip install -e ".[dev]" && python -m pytest'
    assert cmd in readme and cmd in ci


def test_public_api():
    import srcnn_plugin

    for name in srcnn_plugin.__all__:
        assert getattr(srcnn_plugin, name) is not None
