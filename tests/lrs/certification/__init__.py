"""Tests of lifelong-learning hour certification."""
