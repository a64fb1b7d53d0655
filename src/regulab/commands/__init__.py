"""The bodies of the commands: one module per command (``convert``, ``conventions``, ``claims``,
``datasets``, ``fit``, ``predict``, ``path``, ``compare``), each with a ``run(...)`` that the thin
typer wrappers of :mod:`regulab.cli` call. (``explain``'s body is :mod:`regulab.report.explain`;
``app``'s is :mod:`regulab.app`.)

A command returns nothing to the shell: it prints a rich table, or one JSON document with
``--json``, and writes files only where asked (``--save``, ``--out``), atomically, never over an
input. What they share: :mod:`~regulab.commands.options` (the typer declarations of the shared
options), :mod:`~regulab.commands.common` (option checks, loading and preparing, and the names
below re-exported), :mod:`~regulab.commands.fitting` (cross-validated fits),
:mod:`~regulab.commands.output` (consoles, progress bars, number formatting, JSON),
:mod:`~regulab.commands.guards` (output paths), :mod:`~regulab.commands.figures`.
"""
