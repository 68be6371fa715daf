"""A web crawler on weft's event loop, as asyncio programs write one: an
aiohttp client fetches 50 files from a web server, at most 10 at a time (an
asyncio.Semaphore), and checks each file's size and bytes; then the same 50
files again with urllib.request, a blocking library, run in the loop's default
executor (run_in_executor), also at most 10 at a time. When the server also
serves HTTPS, both crawls run again over TLS, verifying the server's
certificate.

The files are written into the web server's document root first (50 files of
different sizes, from 1 KiB to about 400 KiB, with bytes that differ per file).

Run it with a throwaway nginx (started on 127.0.0.1 with a certificate made
for it, stopped at the end):
    bazel run //examples/python:seed_crawler
or against your own nginx serving a directory this program may write into:
    WEFT_TEST_NGINX_PORT=8080 WEFT_TEST_NGINX_DOCROOT=/srv/www /usr/bin/python3 seed_crawler.py
(add WEFT_TEST_NGINX_TLS_PORT and WEFT_TEST_NGINX_CA, the certificate to
trust, for HTTPS).

Everything runs on the loop's thread except the urllib fetches (the
executor's threads); the files are the document root's.
"""
import asyncio
import os
import random
import ssl
import sys
import urllib.request

import aiohttp

import weft

FILES = 50
CONCURRENCY = 10


def site_files():
    """The site: {path: bytes} for FILES files of different sizes and bytes."""
    files = {}
    for number in range(FILES):
        size = 1024 + number * 8191
        files[f"/page-{number:02d}.bin"] = random.Random(number).randbytes(size)
    return files


def write_site(docroot, files):
    for path, data in files.items():
        with open(os.path.join(docroot, path.lstrip("/")), "wb") as f:
            f.write(data)


class ConcurrencyMeter:
    """Counts the fetches under way, and the most at once."""

    def __init__(self):
        self.now = 0
        self.most = 0

    def __enter__(self):
        self.now += 1
        self.most = max(self.most, self.now)

    def __exit__(self, *exc):
        self.now -= 1


def check(files, fetched):
    """Every file came back whole: the same sizes and bytes."""
    assert sorted(fetched) == sorted(files), "a file is missing or extra"
    for path, body in fetched.items():
        assert len(body) == len(files[path]), f"{path}: {len(body)} bytes, not {len(files[path])}"
        assert body == files[path], f"{path}: the bytes differ"
    return sum(len(body) for body in fetched.values())


async def crawl_with_aiohttp(base_url, files, tls=None):
    """Fetches every file with one aiohttp session; returns (bytes, most at once).
    tls: the SSLContext for an https:// base_url."""
    assert isinstance(asyncio.get_running_loop(), weft.Loop)
    semaphore = asyncio.Semaphore(CONCURRENCY)
    meter = ConcurrencyMeter()
    fetched = {}
    async with aiohttp.ClientSession() as session:
        async def fetch(path):
            async with semaphore:
                with meter:
                    async with session.get(base_url + path, ssl=tls) as response:
                        assert response.status == 200, f"{path}: HTTP {response.status}"
                        assert response.content_length == len(files[path])
                        fetched[path] = await response.read()

        await asyncio.gather(*(fetch(path) for path in files))
        # A file that is not there is an HTTP 404, not an exception.
        async with session.get(base_url + "/no-such-page.bin", ssl=tls) as response:
            assert response.status == 404, response.status
    return check(files, fetched), meter.most


def fetch_blocking(url, tls=None):
    with urllib.request.urlopen(url, timeout=30, context=tls) as response:
        assert response.status == 200
        return response.read()


async def crawl_with_urllib(base_url, files, tls=None):
    """The same crawl with urllib.request in the default executor."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, weft.Loop)
    semaphore = asyncio.Semaphore(CONCURRENCY)
    meter = ConcurrencyMeter()
    fetched = {}

    async def fetch(path):
        async with semaphore:
            with meter:
                fetched[path] = await loop.run_in_executor(None, fetch_blocking, base_url + path,
                                                           tls)

    await asyncio.gather(*(fetch(path) for path in files))
    return check(files, fetched), meter.most


async def crawl(base_url, files, server_name, tls=None):
    total, most = await crawl_with_aiohttp(base_url, files, tls)
    print(f"aiohttp from {server_name}: {len(files)} files, {total} bytes, all whole; "
          f"at most {most} at a time")
    total, most = await crawl_with_urllib(base_url, files, tls)
    print(f"urllib in the executor from {server_name}: {len(files)} files, {total} bytes, "
          f"all whole; at most {most} at a time")


async def main(port, tls_port, ca_file, files):
    print("loop:", type(asyncio.get_running_loop()).__module__)
    await crawl(f"http://127.0.0.1:{port}", files, "nginx")
    if tls_port is not None:
        # "localhost" is the name in the certificate: the crawl checks it.
        tls = ssl.create_default_context(cafile=ca_file)
        await crawl(f"https://localhost:{tls_port}", files, "nginx over TLS", tls)


if __name__ == "__main__":
    try:
        port = int(os.environ["WEFT_TEST_NGINX_PORT"])
        docroot = os.environ["WEFT_TEST_NGINX_DOCROOT"]
    except KeyError as missing:
        sys.exit(f"seed_crawler.py: set {missing.args[0]} (bazel run //examples/python:seed_crawler "
                 "starts an nginx and sets it)")
    tls_port = os.environ.get("WEFT_TEST_NGINX_TLS_PORT")
    site = site_files()
    write_site(docroot, site)
    weft.run(main(port, tls_port and int(tls_port), os.environ.get("WEFT_TEST_NGINX_CA"), site))
