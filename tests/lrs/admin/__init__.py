"""Tests of the LRS administration pages."""
