"""``python -m bench``: see ``bench.run``."""

import os
import sys

# The benchmark's local Sheets server takes anonymous requests: google-auth must not spend seconds
# probing Google's metadata address for credentials first (it reads this once, at import).
os.environ.setdefault("NO_GCE_CHECK", "true")

from bench.run import main

if __name__ == "__main__":
    sys.exit(main())
