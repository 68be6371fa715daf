"""A FastAPI app served by uvicorn on weft's event loop, and queried over HTTP.

The app has a plain route (`def`, which FastAPI runs in a worker thread) and
an async route that awaits asyncio.sleep and then Redis (redis.asyncio: it
counts visits per name). Its Redis client is made and closed by the app's
startup and shutdown events. uvicorn serves it on 127.0.0.1 (a free port)
with loop="none" (uvicorn's own loop settings only know asyncio and uvloop),
as uvicorn.Server(config).serve() on weft's loop. The same program then
queries it: 20 concurrent requests with an aiohttp client, then urllib.request
in the default executor, a 404 and a 422 (a bad argument), and checks every
answer; then it asks uvicorn to stop and waits for it.

Run it with a throwaway redis-server (127.0.0.1, stopped at the end):
    bazel run //examples/python:seed_fastapi
or against your own: WEFT_TEST_REDIS_PORT=6379 /usr/bin/python3 seed_fastapi.py
`-- --http h11` (or httptools) picks uvicorn's HTTP parser; by default uvicorn
takes httptools when it is installed (Debian python3-httptools), h11 otherwise.

Everything runs on the loop's thread except the plain route (FastAPI's
worker threads) and the urllib requests (the executor's threads).
"""
import asyncio
import json
import os
import sys
import threading
import urllib.error
import urllib.request

import aiohttp
import redis.asyncio as redis
import uvicorn
from fastapi import FastAPI

import weft

PREFIX = "weft:seed:fastapi:"
REQUESTS = 20


def make_app(redis_port):
    app = FastAPI()
    state = {}

    @app.on_event("startup")
    async def connect_redis():
        state["redis"] = redis.Redis(host="127.0.0.1", port=redis_port, decode_responses=True)
        await state["redis"].ping()

    @app.on_event("shutdown")
    async def close_redis():
        await state["redis"].close()

    @app.get("/")
    def hello():
        return {"message": "hello", "in_worker_thread":
                threading.current_thread() is not threading.main_thread()}

    @app.get("/visit/{name}")
    async def visit(name: str, delay_ms: int = 10):
        loop = asyncio.get_running_loop()
        await asyncio.sleep(delay_ms / 1000)
        visits = await state["redis"].incr(PREFIX + name)
        return {"name": name, "visits": visits, "weft_loop": isinstance(loop, weft.Loop)}

    return app


def get_blocking(url):
    """(status, JSON body) of a GET, with urllib."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


async def query(base_url):
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session:
        async def get(path):
            async with session.get(base_url + path) as response:
                return response.status, await response.json()

        status, body = await get("/")
        print(f"GET / -> {status} {body}")
        answers = await asyncio.gather(*(get(f"/visit/ada?delay_ms={5 + n}")
                                         for n in range(REQUESTS)))
        statuses = {status for status, _ in answers}
        counts = sorted(body["visits"] for _, body in answers)
        on_weft = all(body["weft_loop"] for _, body in answers)
        print(f"{REQUESTS} concurrent GET /visit/ada -> {statuses}, visits 1..{REQUESTS} once each: "
              f"{counts == list(range(1, REQUESTS + 1))}, handled on weft's loop: {on_weft}")

    status, body = await loop.run_in_executor(None, get_blocking, base_url + "/visit/grace")
    print(f"urllib GET /visit/grace -> {status} {body}")
    status, _ = await loop.run_in_executor(None, get_blocking, base_url + "/no-such-route")
    print(f"urllib GET /no-such-route -> {status}")
    status, body = await loop.run_in_executor(
        None, get_blocking, base_url + "/visit/ada?delay_ms=soon")
    print(f"urllib GET /visit/ada?delay_ms=soon -> {status} {body['detail'][0]['loc']}")


async def main(redis_port, http):
    loop = asyncio.get_running_loop()
    print("loop:", type(loop).__module__)
    assert isinstance(loop, weft.Loop)
    config = uvicorn.Config(make_app(redis_port), host="127.0.0.1", port=0, loop="none",
                            http=http, lifespan="on", log_level="warning")
    config.load()
    print("uvicorn's HTTP protocol:", config.http_protocol_class.__name__)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    deadline = loop.time() + 30  # for the startup event and the listening socket
    while not (server.started or serving.done()) and loop.time() < deadline:
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        await query(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
    print("uvicorn stopped")

    cleanup = redis.Redis(host="127.0.0.1", port=redis_port)
    await cleanup.delete(PREFIX + "ada", PREFIX + "grace")
    await cleanup.close()


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--http", choices=("auto", "httptools", "h11"), default="auto",
                        help="uvicorn's HTTP parser (auto: httptools when installed)")
    args = parser.parse_args()
    try:
        redis_port = int(os.environ["WEFT_TEST_REDIS_PORT"])
    except KeyError:
        sys.exit("seed_fastapi.py: set WEFT_TEST_REDIS_PORT (bazel run "
                 "//examples/python:seed_fastapi starts a redis-server and sets it)")
    weft.run(main(redis_port, args.http))
