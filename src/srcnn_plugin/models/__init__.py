"""SRCNN network, weights files and the registry of bundled models."""
