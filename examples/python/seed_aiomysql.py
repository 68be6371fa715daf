"""aiomysql (Debian's python3-aiomysql) on weft's event loop against MariaDB:
a connection pool of at most 10 connections, a table filled in a transaction,
20 concurrent queries through the pool (each waits 50 ms in the server with
SLEEP, so they overlap), a rollback, a query error that leaves the pool
usable, and a connection over the server's Unix socket.

Run it with a throwaway MariaDB (mariadb-install-db into a temporary
directory, 127.0.0.1, stopped at the end):
    bazel run //examples/python:seed_aiomysql
or against your own: WEFT_TEST_MYSQL_PORT, WEFT_TEST_MYSQL_USER,
WEFT_TEST_MYSQL_PASSWORD and WEFT_TEST_MYSQL_DATABASE (it creates and drops
the table seed_cities there).

Runs on the loop's thread; the pool and its connections are this program's.
"""
import asyncio
import os
import sys

import aiomysql
import pymysql

import weft

QUERIES = 20
CITIES = [("Lisbon", 545), ("Porto", 232), ("Braga", 193), ("Coimbra", 106),
          ("Faro", 64), ("Evora", 53), ("Aveiro", 80), ("Viseu", 99)]


async def main(settings, unix_socket):
    loop = asyncio.get_running_loop()
    print("loop:", type(loop).__module__)
    assert isinstance(loop, weft.Loop)
    pool = await aiomysql.create_pool(host="127.0.0.1", minsize=1, maxsize=10, autocommit=True,
                                      **settings)
    try:
        async with pool.acquire() as connection:
            async with connection.cursor() as cursor:
                await cursor.execute("CREATE TABLE seed_cities (id INT AUTO_INCREMENT "
                                     "PRIMARY KEY, name VARCHAR(40) NOT NULL, "
                                     "thousands INT NOT NULL)")
                await connection.begin()
                await cursor.executemany(
                    "INSERT INTO seed_cities (name, thousands) VALUES (%s, %s)", CITIES)
                await connection.commit()

        in_use = 0
        most_in_use = 0

        async def query(number):
            nonlocal in_use, most_in_use
            async with pool.acquire() as connection:
                in_use += 1
                most_in_use = max(most_in_use, in_use)
                try:
                    async with connection.cursor() as cursor:
                        await cursor.execute(
                            "SELECT SLEEP(0.05), COUNT(*), SUM(thousands), CONNECTION_ID() "
                            "FROM seed_cities WHERE thousands > %s", (number * 10,))
                        _, count, total, connection_id = await cursor.fetchone()
                finally:
                    in_use -= 1
            return count, int(total or 0), connection_id

        answers = await asyncio.gather(*(query(n) for n in range(QUERIES)))
        expected = [(sum(1 for _, k in CITIES if k > n * 10),
                     sum(k for _, k in CITIES if k > n * 10)) for n in range(QUERIES)]
        connection_ids = {answer[2] for answer in answers}
        print(f"{QUERIES} concurrent queries: all answers right: "
              f"{[answer[:2] for answer in answers] == expected}; at most {most_in_use} "
              f"connections at once on {len(connection_ids)} server connections "
              f"(the pool's limit: {pool.maxsize})")

        async with pool.acquire() as connection:
            async with connection.cursor() as cursor:
                await connection.begin()
                await cursor.execute("DELETE FROM seed_cities")
                await connection.rollback()
                await cursor.execute("SELECT COUNT(*) FROM seed_cities")
                rows, = await cursor.fetchone()
                print(f"after DELETE and rollback: {rows} rows")
                try:
                    await cursor.execute("SELECT no_such_column FROM seed_cities")
                except pymysql.err.OperationalError as error:
                    print(f"a bad query raises OperationalError {error.args[0]}")
                await cursor.execute("SELECT name FROM seed_cities ORDER BY thousands DESC "
                                     "LIMIT 3")
                print("the connection still works:", [row[0] for row in await cursor.fetchall()])

        if unix_socket:
            connection = await aiomysql.connect(unix_socket=unix_socket, **settings)
            async with connection.cursor() as cursor:
                await cursor.execute("SELECT COUNT(*), @@version LIKE '%MariaDB%' "
                                     "FROM seed_cities")
                rows, mariadb = await cursor.fetchone()
                print(f"unix socket: {rows} rows, the server is MariaDB: {bool(mariadb)}")
            connection.close()

        async with pool.acquire() as connection:
            async with connection.cursor() as cursor:
                await cursor.execute("DROP TABLE seed_cities")
    finally:
        pool.close()
        await pool.wait_closed()
    print("pool closed")


if __name__ == "__main__":
    try:
        database = {"port": int(os.environ["WEFT_TEST_MYSQL_PORT"]),
                    "user": os.environ["WEFT_TEST_MYSQL_USER"],
                    "password": os.environ["WEFT_TEST_MYSQL_PASSWORD"],
                    "db": os.environ["WEFT_TEST_MYSQL_DATABASE"]}
    except KeyError as missing:
        sys.exit(f"seed_aiomysql.py: set {missing.args[0]} (bazel run "
                 "//examples/python:seed_aiomysql starts a MariaDB and sets it)")
    weft.run(main(database, os.environ.get("WEFT_TEST_MYSQL_SOCKET")))
