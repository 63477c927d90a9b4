"""Tests of the xAPI document resources, their rules, storage and concurrency."""
