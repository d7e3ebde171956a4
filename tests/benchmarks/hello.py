"""The hello-world Flask app `make bench` measures beside each page (the stack's limit):
`gunicorn -c gunicorn.conf.py tests.benchmarks.hello:app`."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, world!"
