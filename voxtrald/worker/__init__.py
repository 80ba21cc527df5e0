"""The daemon's side of the worker child and the typed messages both sides speak."""
