"""The two consoles every command prints to (standard output; standard error for progress,
warnings and errors). Kept apart so that ``regulab --version`` loads rich alone."""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)
