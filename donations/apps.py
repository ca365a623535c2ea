
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
