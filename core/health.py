from django.conf import settings


def broker_ok(timeout: float = 1.0) -> bool:
    """True when the Celery broker (Redis) answers a PING."""
    import redis

    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=timeout, socket_timeout=timeout
        )
    except ValueError:  # a URL redis-py cannot use is a broker we cannot reach
        return False
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
