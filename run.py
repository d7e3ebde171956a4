"""Development entry point: `python run.py` serves at http://127.0.0.1:5000.

Production runs `gunicorn 'run:app'` with CHARTER_CONFIG=production.
"""

import os
import sys

from charter import create_app

# A PDF render process (charter.pdf: multiprocessing's forkserver) starts by importing this
# file again as __mp_main__; it needs no app of its own.
if __name__ != "__mp_main__":
    app = create_app()

if __name__ == "__main__":
    app.run(
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "5000")),
        debug="--debug" in sys.argv,
    )
