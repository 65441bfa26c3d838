"""`python -m feather.worker --socket PATH --entry FILE`: see `feather.worker.main`."""

import sys

from .main import main

if __name__ == "__main__":
    sys.exit(main())
