from config.services import celery_broker_url, redis_url_with_db


def test_unix_socket_urls_are_spelled_for_each_client():
    assert celery_broker_url("unix:///srv/var/redis.sock") == "redis+socket:///srv/var/redis.sock"
    assert celery_broker_url("redis://cache:6379/0") == "redis://cache:6379/0"


def test_the_cache_gets_its_own_redis_database():
    assert redis_url_with_db("unix:///srv/var/redis.sock", 2) == "unix:///srv/var/redis.sock?db=2"
    assert redis_url_with_db("redis://cache:6379/0", 1) == "redis://cache:6379/1"


def test_the_settings_use_different_databases_for_broker_and_cache(settings):
    assert settings.CACHES["default"]["LOCATION"] != settings.CELERY_BROKER_URL
