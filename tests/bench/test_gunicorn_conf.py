"""`gunicorn.conf.py`: each worker freezes what it loaded before serving."""

import gc
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_worker_freezes_the_loaded_app():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    assert spec is not None and spec.loader is not None
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    gc.unfreeze()
    try:
        conf.post_worker_init(object())
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
