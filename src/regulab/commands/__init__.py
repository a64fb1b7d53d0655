"""The user-data commands: ``regulab datasets``, ``fit``, ``predict``, ``path`` and ``compare``.

Each module holds one command's body (``run(...)``, called by the thin typer wrappers in
:mod:`regulab.cli`) and returns nothing: it prints a rich table, or one JSON document with
``--json``, and writes files only where asked (``--save``, ``--out``), atomically, never over an
input. :mod:`regulab.commands.common` has what they share: options checks, loading and preparing,
cross-validation with progress bars, number formatting, JSON output and output-path guards.
"""
