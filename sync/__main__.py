"""``python -m sync``: the command line."""

import sys

from sync.cli import main

if __name__ == "__main__":
    sys.exit(main())
