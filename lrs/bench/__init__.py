"""Benchmarks of the LRS, run from `learning-bridge bench lrs`."""
