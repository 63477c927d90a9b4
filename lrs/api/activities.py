"""Serve the Activities resource (xAPI 1.0.3 Communication 2.5)."""
