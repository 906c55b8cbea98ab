"""A bare Flask app answering "hello": the throughput ceiling of this machine and server setup."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "hello"
