"""The Celery application: tasks are thin wrappers around services (STYLE.md)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("satu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
