"""A minimal Lambda Runtime API client for handler.py, as the Python runtime runs one:
import the handler module (its module-level clients are the init), then ask for events
and answer them, over plain HTTP to AWS_LAMBDA_RUNTIME_API.
"""

import http.client
import json
import os
import sys

API = "/2018-06-01/runtime"
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
connection = http.client.HTTPConnection(host, int(port))


def post(path, payload):
    connection.request(
        "POST", API + path, json.dumps(payload), {"content-type": "application/json"}
    )
    connection.getresponse().read()


def error(exc):
    return {"errorType": type(exc).__name__, "errorMessage": str(exc)}


try:
    import handler
except Exception as exc:  # the init failed: say so, as the runtime does
    post("/init/error", error(exc))
    sys.exit(1)

while True:
    connection.request("GET", API + "/invocation/next")
    response = connection.getresponse()
    event = json.loads(response.read())
    request_id = response.getheader("lambda-runtime-aws-request-id")
    try:
        result = handler.handler(event, None)
    except Exception as exc:
        post(f"/invocation/{request_id}/error", error(exc))
    else:
        post(f"/invocation/{request_id}/response", result)
