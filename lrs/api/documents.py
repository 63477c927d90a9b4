"""Serve the State, Activity Profile and Agent Profile resources (xAPI 1.0.3 Communication 2.3-2.7)."""
