"""Integrity checks of screening and assessments (run by `manage.py check_integrity`, core.integrity)."""

from assessments.models import Assessment, Screening
from core.integrity import register_same_regency

register_same_regency(Screening, "participant")
register_same_regency(Assessment, "participant")
