from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("Asesmen")

    def ready(self) -> None:
        from assessments.selectors import eligibility_expression, eligibility_filter
        from participants.hooks import register_eligibility, register_eligibility_filter

        # Participant lists annotate eligibility (participants.selectors) through this registry,
        # and filter on it through the second one.
        register_eligibility(eligibility_expression)
        register_eligibility_filter(eligibility_filter)

        # Screening runs after every applied import.
        from assessments.tasks import on_import_applied
        from participants.services import arrears_import_applied

        arrears_import_applied.connect(on_import_applied, dispatch_uid="assessments.on_import_applied")
