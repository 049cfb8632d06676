"""Collection rules for the doctests in ``src/`` (tests/ has its own conftest).

The napari face needs the optional ``napari`` extra (napari, magicgui, Qt);
without it its modules cannot be imported, so their doctests are not collected
instead of erroring.
"""

import importlib.util

collect_ignore_glob = []
if any(importlib.util.find_spec(m) is None for m in ("napari", "magicgui")):
    collect_ignore_glob.append("src/srcnn_plugin/_napari/*")
