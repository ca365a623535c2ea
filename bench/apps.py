from django.apps import AppConfig


class BenchConfig(AppConfig):
    """`manage.py bench_import`, `bench_reconcile`, `bench_statement`, `bench_screening`.

    Listed in INSTALLED_APPS by config/settings/dev.py and test.py only: production has no
    benchmark commands, and django-import-export (bench_import's yardstick) is not installed there.
    """

    name = "bench"
    verbose_name = "Benchmarks"
