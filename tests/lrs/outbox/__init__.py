"""Tests of the durable outbox and statement forwarding."""
