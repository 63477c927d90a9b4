"""Tests of the pure xAPI rules and shared helpers of the Statement resource tests."""
