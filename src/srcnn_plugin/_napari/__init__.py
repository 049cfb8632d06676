"""napari plugin: the widget, the layer logic behind it and sample data.

All napari and Qt code lives in this subpackage; ``_core`` turns a layer into
upscaled layer data without touching Qt, so it is testable without a viewer.
"""
