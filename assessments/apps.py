import importlib

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Where the participants app may define `arrears_import_applied` (the brief names
# `participants.signals`; the import service currently defines it itself).
_SIGNAL_MODULES = ("participants.signals", "participants.services")


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("Asesmen")

    def ready(self) -> None:
        from assessments.selectors import eligibility_expression
        from participants.hooks import register_eligibility

        # Participant lists annotate eligibility (participants.selectors) through this registry.
        register_eligibility(eligibility_expression)

        # Screening runs after every applied import: connect when the signal exists.
        from assessments.tasks import on_import_applied

        for module_name in _SIGNAL_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            signal = getattr(module, "arrears_import_applied", None)
            if signal is not None:
                signal.connect(on_import_applied, dispatch_uid="assessments.on_import_applied")
                return
