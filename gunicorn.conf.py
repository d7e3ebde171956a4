"""Gunicorn settings for production: `gunicorn -c gunicorn.conf.py` (run from this folder).

Every value can be changed from the environment:
  GUNICORN_BIND      address to listen on               default 127.0.0.1:8000 (behind a proxy)
  WEB_CONCURRENCY    worker processes                   default 2 × CPU cores + 1, at most 8
  GUNICORN_TIMEOUT   seconds before a stuck worker is restarted    default 120
                     (above PDF_RENDER_TIMEOUT, so a slow PDF gets its clear message first)
  SERVER_HEADER      the Server header sent with every response    default "web"
  GUNICORN_MAX_REQUESTS          requests before a worker is replaced  default 5000
  GUNICORN_MAX_REQUESTS_JITTER   plus up to this many, at random       default 500
                     (so that workers do not restart together, and a slow leak cannot grow)
  GUNICORN_PRELOAD   1: import the app once in the master, then fork   default 0
  GUNICORN_ACCESSLOG where to log each request ("-": standard output; empty: nowhere)
                                                                       default "-"

With more than one worker (or host), use Redis for the rate limiter
(RATELIMIT_STORAGE_URI=redis://…): the default memory storage counts per worker.
"""

import os

import gunicorn.http.wsgi

wsgi_app = "run:app"

bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * (os.cpu_count() or 1) + 1, 8))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Restart workers now and then, so that a slow leak (e.g. in PDF rendering) cannot grow.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
preload_app = os.environ.get("GUNICORN_PRELOAD", "0").lower() in {"1", "true", "yes", "on"}
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
proc_name = "promise-charter"

# No server name or version in responses: gunicorn would send "Server: gunicorn". Its
# HTTP/1 and HTTP/2 responses take the value from this module-level name; the master
# sets it here, before the workers are forked. (tests/test_http_hardening.py checks the
# header on a running gunicorn, so an upgrade that changes this is noticed.)
SERVER_HEADER = os.environ.get("SERVER_HEADER", "web")
gunicorn.http.wsgi.SERVER = SERVER_HEADER
