"""Times are shown in the regency's own zone, also on pages outside `/r/<slug>/`."""


def test_waktu_shows_a_time_in_the_regency_zone_given_as_argument():
    import datetime as dt
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from core.templatetags.satu import waktu

    at = dt.datetime(2026, 11, 22, 1, 30, tzinfo=dt.UTC)
    jakarta = SimpleNamespace(tzinfo=ZoneInfo("Asia/Jakarta"))
    jayapura = SimpleNamespace(tzinfo=ZoneInfo("Asia/Jayapura"))
    assert waktu(at, jakarta) == "22 November 2026 08.30 WIB"
    assert waktu(at, jayapura) == "22 November 2026 10.30 WIT"
