"""``python -m regulab`` runs the command-line interface."""

from regulab.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
