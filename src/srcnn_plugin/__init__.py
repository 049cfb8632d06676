"""srcnn_plugin: SRCNN super-resolution for scientific images.

Importing the package is cheap: torch, napari and Qt are imported only by the
functions that need them.
"""

__version__ = "0.1.0"
