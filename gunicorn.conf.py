"""gunicorn's settings wherever the app is served: the Docker image and docker-compose (working
directory /app) and `bench/load.py` (the checkout) start gunicorn in this directory, and gunicorn
reads `./gunicorn.conf.py` from there. Flags on the command line still win."""

import gc


def post_worker_init(worker: object) -> None:
    """Once a worker has loaded the app: the objects alive now (Django, the models, the URL
    patterns, about 250,000 of them) live as long as the worker, so they move to the garbage
    collector's permanent generation and its full collections stop walking them on every
    request's allocations (`bench/README.md`, "Session 12": 1.5 -> 0.7 ms of collection a request)."""
    gc.collect()
    gc.freeze()
