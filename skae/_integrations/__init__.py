"""Integrations with other projects, for the public modules that offer them
(:mod:`skae.onnx`); they import optional packages, and ``import skae`` never
imports them."""
