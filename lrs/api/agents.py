"""Serve the Agents resource (xAPI 1.0.3 Communication 2.6)."""
