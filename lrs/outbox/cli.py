"""Command-line commands of this area, added to `learning-bridge` by lti_tool.cli."""

from __future__ import annotations

import click

# Top-level commands or groups, and `learning-bridge bench` subcommands.
commands: list[click.Command] = []
bench_commands: list[click.Command] = []
