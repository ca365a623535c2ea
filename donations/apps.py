from typing import Any

from django.apps import AppConfig


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = "Donasi"

    def ready(self) -> None:
        # Reconciliation runs after every applied import (donations.reconciliation).
        from donations.tasks import on_import_applied
        from participants.hooks import register_active_pledges, register_tariffs
        from participants.services import arrears_import_applied

        arrears_import_applied.connect(on_import_applied, dispatch_uid="donations.on_import_applied")
        from assessments.services import assessment_approved
        from donations.tasks import on_assessment_approved

        assessment_approved.connect(on_assessment_approved, dispatch_uid="donations.on_assessment_approved")
        from accounts.signals import user_self_signed_up
        from donations.services import on_user_self_signed_up

        user_self_signed_up.connect(on_user_self_signed_up, dispatch_uid="donations.on_user_self_signed_up")
        register_active_pledges(self.get_model("ActivePledge"))  # a full list asks before releasing one
        register_tariffs(self.get_model("Tariff"))  # the import flags rows billed above 24 months
        from assessments.screening import register_paid_pledges
        from donations.models import PledgeStatus

        # screening: a clearing our donor paid is no sign the participant can pay
        register_paid_pledges(pledge_model=self.get_model("Pledge"), payment_model=self.get_model("Payment"),
                              statuses=(PledgeStatus.PAID, PledgeStatus.VERIFIED))

        # The pool's size (`selectors.pool_count`) is cached until one of these changes it.
        from django.db.models.signals import post_delete, post_save

        from assessments.models import Assessment
        from assessments.screening import screening_done
        from donations.reconciliation.services import reconciliation_done

        for signal in (arrears_import_applied, screening_done, reconciliation_done):
            signal.connect(_pool_changed_by_job, dispatch_uid=f"donations.pool.job.{id(signal)}")
        for model in (self.get_model("Pledge"), Assessment):
            for signal in (post_save, post_delete):
                signal.connect(_pool_changed_by_row, sender=model,
                               dispatch_uid=f"donations.pool.{model.__name__}.{id(signal)}")


def _pool_changed_by_row(sender: Any, instance: Any, **kwargs: Any) -> None:
    from donations.selectors import pool_changed

    pool_changed(instance.regency_id)


def _pool_changed_by_job(sender: Any, **kwargs: Any) -> None:
    """A screening or a reconciliation names its regency; an applied list, its import."""
    from donations.selectors import pool_changed
    from participants.models import ArrearsImport

    if "regency_id" in kwargs:
        pool_changed(kwargs["regency_id"])
        return
    import_id: int = kwargs["import_id"]
    applied = ArrearsImport.objects.filter(pk=import_id).select_related("branch").first()
    if applied is not None:
        for regency_id in applied.branch.regencies.values_list("pk", flat=True):
            pool_changed(regency_id)
