"""`python -m app [--workers N]`: serve the sales API (app/runtime/serve.py);
`python -m app deliver`: the webhook deliverer (app/deliver.py)."""

import sys

if sys.argv[1:2] == ["deliver"]:
    from app.deliver import main
else:
    from app.runtime.serve import main

sys.exit(main())
