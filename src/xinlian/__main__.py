"""``python -m xinlian ...`` runs the command-line interface."""

from xinlian.cli.main import main

if __name__ == "__main__":
    main()
