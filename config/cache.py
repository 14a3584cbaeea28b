"""Django's Redis cache backend, with one redis-py client per connection pool.

Django's ``RedisCache`` builds a new ``redis.Redis`` object for every operation, and each one
builds its own table of response callbacks: about 0.16 ms of CPU per ``get``, a quarter of the
call (``docs/BENCHMARKS.md``). A ``redis.Redis`` holds no connection of
its own and is safe to share between threads (connections come from the pool, which also notices
a fork), so one per pool serves every operation. Everything else is Django's.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _SharedClientRedisCacheClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients_by_pool", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedClientRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` that reuses its redis-py clients."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _SharedClientRedisCacheClient
