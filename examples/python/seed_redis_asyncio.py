"""redis.asyncio (Debian's python3-redis 4.3) on weft's event loop against a
redis-server: commands on a client with a blocking connection pool of at
most 10 connections, 100 concurrent INCRs, a transactional pipeline and a
plain one, WATCH with a retry when another client changes the watched key, pub/sub (a channel and a pattern)
with a reader task, and a client over the server's Unix socket.

Run it with a throwaway redis-server (127.0.0.1, stopped at the end):
    bazel run //examples/python:seed_redis_asyncio
or against your own: WEFT_TEST_REDIS_PORT=6379 /usr/bin/python3 seed_redis_asyncio.py
(it uses keys under "weft:seed:" and deletes them).

Runs on the loop's thread; the clients are this program's.
"""
import asyncio
import os
import sys

import redis.asyncio as redis

import weft

PREFIX = "weft:seed:redis-asyncio:"


async def transfer_with_watch(client, other, amount):
    """Moves amount from one balance to another in a WATCHed transaction;
    the first attempt is spoiled by another client, so it runs twice."""
    attempts = 0
    async with client.pipeline(transaction=True) as pipe:
        while True:
            attempts += 1
            try:
                await pipe.watch(PREFIX + "from")
                balance = int(await pipe.get(PREFIX + "from"))
                if attempts == 1:
                    await other.incrby(PREFIX + "from", 5)  # someone else writes
                pipe.multi()
                pipe.decrby(PREFIX + "from", amount)
                pipe.incrby(PREFIX + "to", amount)
                await pipe.execute()
                return attempts, balance
            except redis.WatchError:
                continue


async def main(port, unix_socket):
    print("loop:", type(asyncio.get_running_loop()).__module__)
    assert isinstance(asyncio.get_running_loop(), weft.Loop)
    # At most 10 connections; a command waits for a free one (a plain
    # ConnectionPool would raise instead).
    pool = redis.BlockingConnectionPool(host="127.0.0.1", port=port, decode_responses=True,
                                        max_connections=10, timeout=10,
                                        client_name="weft-seed")
    client = redis.Redis(connection_pool=pool)
    other = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    print("ping:", await client.ping())

    await client.hset(PREFIX + "user", mapping={"name": "Grace", "year": 1906})
    print("hgetall:", dict(sorted((await client.hgetall(PREFIX + "user")).items())))

    counts = await asyncio.gather(*(client.incr(PREFIX + "counter") for _ in range(100)))
    pooled = [c for c in await other.client_list() if c["name"] == "weft-seed"]
    print(f"100 concurrent INCRs gave 1..100 once each: {sorted(counts) == list(range(1, 101))}; "
          f"the server saw {len(pooled)} pooled connections (at most 10)")

    async with client.pipeline(transaction=True) as pipe:
        replies = await (pipe.set(PREFIX + "a", 1).incrby(PREFIX + "a", 41)
                         .get(PREFIX + "a").execute())
    print("transaction:", replies)
    async with client.pipeline(transaction=False) as pipe:
        for number in range(10):
            pipe.rpush(PREFIX + "list", number)
        pipe.lrange(PREFIX + "list", 0, -1)
        replies = await pipe.execute()
    print(f"pipeline: {len(replies)} replies, the list: {' '.join(replies[-1])}")

    await client.mset({PREFIX + "from": 100, PREFIX + "to": 0})
    attempts, seen = await transfer_with_watch(client, other, 30)
    balances = await client.mget(PREFIX + "from", PREFIX + "to")
    print(f"watch: {attempts} attempts (the retry saw {seen}), balances {balances}")

    pubsub = client.pubsub()
    await pubsub.subscribe(PREFIX + "news")
    await pubsub.psubscribe(PREFIX + "events.*")
    received = []

    async def read_messages(count):
        while len(received) < count:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                received.append((message["type"], message["channel"], message["data"]))

    reader = asyncio.create_task(read_messages(4))
    receivers = [await other.publish(PREFIX + "news", f"item {n}") for n in range(3)]
    receivers.append(await other.publish(PREFIX + "events.login", "grace"))
    await asyncio.wait_for(reader, 10)
    print(f"pub/sub: receivers {receivers}")
    for kind, channel, data in received:
        print(f"  {kind} on {channel[len(PREFIX):]}: {data}")
    await pubsub.unsubscribe()
    await pubsub.punsubscribe()
    await pubsub.close()

    if unix_socket:
        local = redis.Redis(unix_socket_path=unix_socket, decode_responses=True)
        print("unix socket: hget:", await local.hget(PREFIX + "user", "name"))
        await local.close()

    deleted = await client.delete(*(PREFIX + key for key in
                                    ("user", "counter", "a", "list", "from", "to")))
    print("keys deleted:", deleted)
    await other.close()
    await client.close()
    await pool.disconnect()


if __name__ == "__main__":
    try:
        redis_port = int(os.environ["WEFT_TEST_REDIS_PORT"])
    except KeyError:
        sys.exit("seed_redis_asyncio.py: set WEFT_TEST_REDIS_PORT (bazel run "
                 "//examples/python:seed_redis_asyncio starts a redis-server and sets it)")
    weft.run(main(redis_port, os.environ.get("WEFT_TEST_REDIS_SOCKET")))
