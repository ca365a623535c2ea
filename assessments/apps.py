from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("Asesmen")

    def ready(self) -> None:
        from assessments.selectors import eligibility_expression
        from participants.hooks import register_eligibility

        # Participant lists annotate eligibility (participants.selectors) through this registry.
        register_eligibility(eligibility_expression)

        # Screening runs after every applied import.
        from assessments.tasks import on_import_applied
        from participants.services import arrears_import_applied

        arrears_import_applied.connect(on_import_applied, dispatch_uid="assessments.on_import_applied")
