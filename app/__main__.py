"""`python -m app [--workers N]`: serve the sales API (app/runtime/serve.py)."""

import sys

from app.runtime.serve import main

sys.exit(main())
