"""A webhook receiver for the delivery benchmark, in a process of its own (so it does not
share the measured event loop): answers every POST 204 and counts them at ``GET /count``.

    python -m benchmarks.webhook_receiver PORT
"""

import sys
from typing import Any

import uvicorn

received = 0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global received
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    body = b""
    if scope["method"] == "POST":
        received += 1
    else:
        body = str(received).encode()
    await send({"type": "http.response.start", "status": 204 if not body else 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
