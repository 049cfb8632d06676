"""Training data, training loop and the paper's evaluation protocol."""
