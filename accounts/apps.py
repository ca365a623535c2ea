from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Akun"

    def ready(self) -> None:
        from accounts.tokens import connect_signals

        # API tokens are revoked on a password change or deactivation.
        connect_signals()
