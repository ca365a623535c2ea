from django.apps import AppConfig


class RegenciesConfig(AppConfig):
    name = "regencies"
    verbose_name = "Kabupaten/Kota"

    def ready(self) -> None:
        from accounts.mfa import register_role_check
        from regencies.selectors import user_holds_role

        # A regency or branch role requires MFA (accounts.middleware.MfaRequiredMiddleware).
        register_role_check(user_holds_role)

        from regencies.signals import connect_signals

        # Losing the last role revokes the user's API tokens (accounts.tokens).
        connect_signals()
