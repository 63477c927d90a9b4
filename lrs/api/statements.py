"""Serve the Statement resource (xAPI 1.0.3 Communication 2.1)."""
