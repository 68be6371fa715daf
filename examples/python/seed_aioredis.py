"""aioredis 1.3.1 (Debian's python3-aioredis, the API asyncio programs of its
time use) on weft's event loop against a redis-server: one connection
(create_redis) with hmset_dict/hgetall, a pool (create_redis_pool) with 100
concurrent INCRs, a MULTI/EXEC transaction and a pipeline, pub/sub on a
channel and a pattern, and a connection over the server's Unix socket.

Run it with a throwaway redis-server (127.0.0.1, stopped at the end):
    bazel run //examples/python:seed_aioredis
or against your own: WEFT_TEST_REDIS_PORT=6379 /usr/bin/python3 seed_aioredis.py
(it uses keys under "weft:seed:" and deletes them).

Runs on the loop's thread; the connections are this program's.
"""
import asyncio
import os
import sys

import aioredis

import weft

PREFIX = "weft:seed:aioredis:"


async def main(port, unix_socket):
    print("loop:", type(asyncio.get_running_loop()).__module__)
    assert isinstance(asyncio.get_running_loop(), weft.Loop)
    address = ("127.0.0.1", port)

    redis = await aioredis.create_redis(address)
    await redis.hmset_dict(PREFIX + "user", {"name": "Ada", "year": 1815, "lang": "en"})
    user = await redis.hgetall(PREFIX + "user", encoding="utf-8")
    print("hgetall:", dict(sorted(user.items())))

    pool = await aioredis.create_redis_pool(address, minsize=2, maxsize=10)
    counts = await asyncio.gather(*(pool.incr(PREFIX + "counter") for _ in range(100)))
    print(f"pool: 100 concurrent INCRs gave 1..100 once each: "
          f"{sorted(counts) == list(range(1, 101))}; connections used: {pool.connection.size} "
          f"(at most {pool.connection.maxsize})")

    transaction = pool.multi_exec()
    transaction.set(PREFIX + "a", "1")
    transaction.incrby(PREFIX + "a", 41)
    transaction.get(PREFIX + "a", encoding="utf-8")
    print("multi_exec:", await transaction.execute())

    pipeline = pool.pipeline()
    for number in range(10):
        pipeline.rpush(PREFIX + "list", number)
    pipeline.lrange(PREFIX + "list", 0, -1, encoding="utf-8")
    replies = await pipeline.execute()
    print(f"pipeline: {len(replies)} replies, the list: {' '.join(replies[-1])}")

    subscriber = await aioredis.create_redis(address)
    channel, = await subscriber.subscribe(PREFIX + "news")
    pattern, = await subscriber.psubscribe(PREFIX + "events.*")
    receivers = [await redis.publish(PREFIX + "news", f"item {n}") for n in range(3)]
    await redis.publish(PREFIX + "events.login", "ada")
    news = [await channel.get(encoding="utf-8") for _ in range(3)]
    event_channel, event = await pattern.get(encoding="utf-8")
    print(f"pub/sub: receivers {receivers}, channel got {news}, "
          f"pattern got {event!r} on {event_channel.decode()}")
    await subscriber.unsubscribe(PREFIX + "news")
    await subscriber.punsubscribe(PREFIX + "events.*")
    subscriber.close()
    await subscriber.wait_closed()

    if unix_socket:
        local = await aioredis.create_redis(unix_socket)
        print("unix socket: hget:", await local.hget(PREFIX + "user", "name", encoding="utf-8"))
        local.close()
        await local.wait_closed()

    deleted = await redis.delete(PREFIX + "user", PREFIX + "counter", PREFIX + "a",
                                 PREFIX + "list")
    print("keys deleted:", deleted)
    redis.close()
    await redis.wait_closed()
    pool.close()
    await pool.wait_closed()


if __name__ == "__main__":
    try:
        redis_port = int(os.environ["WEFT_TEST_REDIS_PORT"])
    except KeyError:
        sys.exit("seed_aioredis.py: set WEFT_TEST_REDIS_PORT (bazel run "
                 "//examples/python:seed_aioredis starts a redis-server and sets it)")
    weft.run(main(redis_port, os.environ.get("WEFT_TEST_REDIS_SOCKET")))
