from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Laporan"

    def ready(self) -> None:
        # The summary tables follow the jobs that change the figures, inside their transactions.
        from assessments.screening import screening_done
        from assessments.services import assessment_approved
        from donations.reconciliation.services import reconciliation_done
        from participants.services import arrears_import_applied
        from reporting import summaries

        arrears_import_applied.connect(summaries.on_import_applied, dispatch_uid="reporting.on_import_applied")
        screening_done.connect(summaries.on_screening_done, dispatch_uid="reporting.on_screening_done")
        reconciliation_done.connect(summaries.on_regency_changed, dispatch_uid="reporting.on_reconciliation_done")
        assessment_approved.connect(summaries.on_assessment_approved, dispatch_uid="reporting.on_assessment_approved")
