"""An aiohttp web server on weft's event loop, answering the crawler of
seed_crawler.py: the server (aiohttp.web, on 127.0.0.1, a free port) serves
the crawler's 50 files from memory, plus a JSON route that reports how many
files it served; the crawler, on the same loop, fetches them all with aiohttp
(10 at a time) and with urllib.request in the default executor, and checks
every byte. The server's handlers check that they run on weft's loop.

    bazel run //examples/python:seed_aiohttp_server

Everything runs on the loop's thread except the urllib fetches (the
executor's threads).
"""
import asyncio
import json
import urllib.request

from aiohttp import web

import weft
from seed_crawler import FILES, crawl, site_files


def make_app(files):
    served = {"files": 0, "bytes": 0}

    async def page(request):
        assert isinstance(asyncio.get_running_loop(), weft.Loop)
        body = files.get("/" + request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        served["files"] += 1
        served["bytes"] += len(body)
        return web.Response(body=body, content_type="application/octet-stream")

    async def stats(request):
        return web.json_response(served)

    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_get("/{name}", page)
    return app


def stats_blocking(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


async def main():
    loop = asyncio.get_running_loop()
    print("loop:", type(loop).__module__)
    files = site_files()
    runner = web.AppRunner(make_app(files))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        base_url = f"http://127.0.0.1:{port}"
        await crawl(base_url, files, "aiohttp.web")
        served = await loop.run_in_executor(None, stats_blocking, base_url + "/stats")
        expected_bytes = 2 * sum(len(body) for body in files.values())
        print(f"the server served {served['files']} files, {served['bytes']} bytes: "
              f"as fetched: {served == {'files': 2 * FILES, 'bytes': expected_bytes}}")
    finally:
        await runner.cleanup()
    print("server stopped")


if __name__ == "__main__":
    weft.run(main())
