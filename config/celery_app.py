"""The Celery application: tasks are thin wrappers around services."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("satu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _mask_personal_data(logger=None, **kwargs) -> None:
    """The worker sets up its own log handlers: they get the personal-data filter too."""
    from core.logging import install

    install(logger)
