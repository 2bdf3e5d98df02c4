"""``python -m hierbayes`` runs the command line."""

import sys

from hierbayes.cli import main

if __name__ == "__main__":
    sys.exit(main())
