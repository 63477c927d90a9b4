"""Tests of the LRS benchmark command."""
