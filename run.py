"""Development entry point: `python run.py` serves at http://127.0.0.1:5000.

Production runs `gunicorn 'run:app'` with CHARTER_CONFIG=production.
"""

import os
import sys

from charter import create_app

app = create_app()

if __name__ == "__main__":
    app.run(
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "5000")),
        debug="--debug" in sys.argv,
    )
