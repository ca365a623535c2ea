"""`manage.py seed_demo`: idempotent demo tenants and users; refused where demo data is off."""

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from donations.models import DonorProfile
from regencies.models import BpjsBranch, BranchMembership, District, Membership, Regency
from regencies.permissions import regency_access_for, user_regencies
from regencies.reference import REGENCIES
from regencies.roles import Perm, Role
from reporting.management.commands.seed_demo import Command


def seed(*args):
    out, err = StringIO(), StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def table_rows():
    return {
        "regencies": sorted(Regency.objects.values_list("code", "slug", "timezone")),
        "districts": sorted(District.all_regencies.values_list("regency__code", "code", "name")),
        "branches": sorted(BpjsBranch.objects.values_list("code", "regencies__code")),
        "users": sorted(User.objects.values_list("email", "is_staff", "is_superuser", "is_active")),
        "addresses": sorted(EmailAddress.objects.values_list("email", "verified", "primary")),
        "memberships": sorted(Membership.all_regencies.values_list("user__email", "regency__code", "role")),
        "branch_memberships": sorted(BranchMembership.objects.values_list("user__email", "branch__code")),
        "donors": sorted(DonorProfile.objects.values_list("user__email", flat=True)),
    }


@pytest.mark.django_db
def test_seed_twice_gives_the_same_rows_and_a_json_last_line(settings):
    out, err = seed("--participants", "0")
    first = table_rows()
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["regencies"] == 5
    assert summary["branches"] == 2
    assert summary["users"] == 11
    assert summary["districts"] == sum(len(r.districts) for r in REGENCIES)
    assert summary["participants"] == {}
    assert summary["password"] == settings.DEMO_PASSWORD
    assert summary["operator"] == "operator@demo.test"
    assert summary["created"]["users"] == 11
    assert {"operator@demo.test", "bendahara.lutra@demo.test"} <= {login["email"] for login in summary["logins"]}
    assert "Luwu Utara" in err  # progress goes to stderr

    out2, _err2 = seed("--participants", "0")
    assert table_rows() == first
    again = json.loads(out2.strip().splitlines()[-1])
    assert again["created"] == {"regencies": 0, "districts": 0, "branches": 0, "users": 0, "memberships": 0}
    assert {k: again[k] for k in ("regencies", "branches", "users", "districts")} == {
        k: summary[k] for k in ("regencies", "branches", "users", "districts")
    }


@pytest.mark.django_db
def test_tenants_branches_and_districts_follow_the_reference():
    seed("--participants", "0")
    assert sorted(Regency.objects.values_list("slug", flat=True)) == sorted(
        ["luwu-utara", "luwu", "luwu-timur", "kota-palopo", "lombok-timur"]
    )
    palopo = BpjsBranch.objects.get(code="palopo")
    assert sorted(palopo.regencies.values_list("code", flat=True)) == ["73.17", "73.22", "73.24", "73.73"]
    assert list(BpjsBranch.objects.get(code="selong").regencies.values_list("code", flat=True)) == ["52.03"]
    lutra = Regency.objects.get(code="73.22")
    assert lutra.timezone == "Asia/Makassar" and lutra.population == 329_934
    districts = District.objects.for_regency(lutra)
    assert districts.count() == 15
    assert districts.get(code="73.22.03").name == "Masamba"
    assert all(d.code.startswith("73.22.") and len(d.code) == 8 for d in districts)


@pytest.mark.django_db
def test_every_demo_user_logs_in_with_the_demo_password_and_has_the_contract_role(settings):
    seed("--participants", "0")
    password = settings.DEMO_PASSWORD

    def access(email, code):
        user = authenticate(None, username=email, password=password)
        assert user is not None, email
        assert EmailAddress.objects.get(user=user).verified
        return regency_access_for(user=user, regency=Regency.objects.get(code=code))

    assert access("admin.lutra@demo.test", "73.22").roles == {Role.REGENCY_ADMIN}
    assert access("staf.lutra@demo.test", "73.22").roles == {Role.PEMDA_STAFF}
    assert access("asesor.lutra@demo.test", "73.22").roles == {Role.ASSESSOR}
    assert access("supervisor.lutra@demo.test", "73.22").can(Perm.DECIDE_ASSESSMENT)
    treasurer = access("bendahara.lutra@demo.test", "73.22")
    assert treasurer.roles == {Role.TREASURER} and treasurer.can(Perm.MANAGE_MONEY)
    assert not treasurer.can(Perm.MANAGE_CAMPAIGNS)
    assert access("bendahara.lutra@demo.test", "52.03") is None
    assert access("admin.lotim@demo.test", "52.03").roles == {Role.REGENCY_ADMIN}
    assert access("asesor.lotim@demo.test", "52.03").roles == {Role.ASSESSOR}
    assert access("admin.lotim@demo.test", "73.22") is None
    assert access("bpjs.palopo@demo.test", "73.24").is_branch_admin
    assert access("bpjs.palopo@demo.test", "52.03") is None
    assert access("bpjs.selong@demo.test", "52.03").is_branch_admin
    donor = authenticate(None, username="donatur@demo.test", password=password)
    assert DonorProfile.objects.filter(user=donor).exists()
    assert user_regencies(donor) == []
    operator = authenticate(None, username="operator@demo.test", password=password)
    assert operator.is_staff and operator.is_superuser


@pytest.mark.django_db
def test_a_second_run_repairs_what_was_changed(settings):
    seed("--participants", "0")
    user = User.objects.get(email="asesor.lutra@demo.test")
    user.set_password("sesuatu-yang-lain")
    user.is_active = False
    user.save()
    EmailAddress.objects.filter(user=user).update(verified=False)
    seed("--participants", "0")
    assert authenticate(None, username=user.email, password=settings.DEMO_PASSWORD) == user
    assert EmailAddress.objects.get(user=user).verified


@pytest.mark.django_db
def test_existing_districts_made_by_an_import_are_reused(settings):
    lutra = Regency.objects.create(code="73.22", name="Luwu Utara", slug="luwu-utara", timezone="Asia/Makassar")
    District.objects.create(regency=lutra, name="Masamba")  # by name only, as an import may
    seed("--participants", "0")
    masamba = District.objects.for_regency(lutra).get(name="Masamba")
    assert masamba.code == "73.22.03"
    assert District.objects.for_regency(lutra).count() == 15


@pytest.mark.django_db
def test_refused_where_demo_data_is_disabled(settings):
    settings.ENABLE_DEMO_DATA = False
    out = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("seed_demo", "--participants", "0", stdout=out, stderr=StringIO())
    assert excinfo.value.returncode == 1
    assert "ENABLE_DEMO_DATA" in str(excinfo.value)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["code"] == "demo_disabled"
    assert not Regency.objects.exists()
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["-1", "banyak"])
def test_a_bad_participant_count_exits_2_with_a_message(capsys, value):
    with pytest.raises(SystemExit) as excinfo:
        Command().run_from_argv(["manage.py", "seed_demo", "--participants", value])
    assert excinfo.value.code == 2
    assert "--participants: harus bilangan bulat 0 atau lebih" in capsys.readouterr().err
    assert not Regency.objects.exists()


@pytest.mark.django_db
def test_participants_come_from_one_applied_import_per_branch_and_are_not_repeated():
    from participants.models import ArrearsImport, ImportStatus, Participant

    out, _err = seed("--participants", "4")
    summary = json.loads(out.strip().splitlines()[-1])
    assert set(summary["participants"]) == {"palopo", "selong"}
    imports = ArrearsImport.objects.order_by("branch__code")
    assert [(i.branch.code, i.status) for i in imports] == [
        ("palopo", ImportStatus.APPLIED), ("selong", ImportStatus.APPLIED),
    ]
    assert summary["participants"]["selong"]["import_id"] == imports[1].pk
    lotim = Regency.objects.get(code="52.03")
    assert Participant.objects.for_regency(lotim).count() == summary["participants"]["selong"]["rows"] > 0
    participants_before = sorted(Participant.all_regencies.values_list("card_number", "regency__code"))

    seed("--participants", "4")
    assert ArrearsImport.objects.count() == 2
    assert sorted(Participant.all_regencies.values_list("card_number", "regency__code")) == participants_before


@pytest.mark.django_db
def test_lutra_asn_is_paid_into_the_collecting_account_and_a_rerun_brings_an_old_demo_there():
    from donations.models import Campaign, PaymentRoute

    seed("--participants", "0")
    asn, peduli = Campaign.all_regencies.get(slug="lutra-asn"), Campaign.all_regencies.get(slug="lutra-peduli")
    assert asn.payment_route == PaymentRoute.COLLECTED and asn.is_collected
    assert asn.bank_name == "Bank Sulselbar" and asn.account_number
    assert asn.account_holder == "Pemkab Luwu Utara - Satu untuk Satu"
    assert peduli.payment_route == PaymentRoute.DIRECT
    # A demo seeded before the payment routes: lutra-asn was direct, without an account.
    Campaign.all_regencies.filter(pk=asn.pk).update(payment_route=PaymentRoute.DIRECT, bank_name="",
                                                    account_number="", account_holder="", title="Diubah")
    seed("--participants", "0")
    asn.refresh_from_db()
    assert asn.payment_route == PaymentRoute.COLLECTED and asn.bank_name == "Bank Sulselbar"
    assert asn.title == "Diubah"  # what was edited in the campaign stays
    assert Campaign.all_regencies.filter(slug__in=["lutra-asn", "lutra-peduli"]).count() == 2


# --- the newcomer's path (README): e-mails in the console, every login, a short summary ----------


@pytest.mark.django_db
def test_the_sign_up_link_is_readable_in_the_console_of_make_run(settings, capsys):
    """`make run` (dev settings) prints e-mails with the console backend: the verification link
    must be there whole, not wrapped or quoted-printable encoded, so a newcomer can copy it."""
    from django.test import Client

    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    response = Client().post("/accounts/signup/", {
        "email": "baru@example.test", "password1": "sebuah-sandi-panjang-42", "password2": "sebuah-sandi-panjang-42",
    }, HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 302
    printed = capsys.readouterr().out
    links = re.findall(r"http://127\.0\.0\.1:8000/accounts/confirm-email/[^\s]+/", printed)
    assert links, printed
    confirmed = Client().post(links[0].removeprefix("http://127.0.0.1:8000"), HTTP_HOST="127.0.0.1:8000")
    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(email="baru@example.test").verified


def test_make_run_says_where_the_e_mails_are(monkeypatch):
    from scripts.run import email_hint

    assert "`web |`" in email_hint({}) and "verification" in email_hint({})
    assert "`web |`" not in email_hint({"DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"})
    assert "config.settings.prod" in email_hint({"SATU_SETTINGS": "config.settings.prod"})


def test_make_run_and_the_readme_list_every_demo_login():
    from reporting.demo import DEMO_USERS, OPERATOR_EMAIL
    from scripts.run import logins_table

    emails = {u.email for u in DEMO_USERS} | {OPERATOR_EMAIL}
    table = logins_table("demo-satu-untuk-satu")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for email in emails:
        assert email in table, email
        assert f"| {email} |" in readme, email


@pytest.mark.django_db
def test_the_summary_for_people_is_short_and_the_json_stays_the_last_stdout_line():
    out, err = seed("--participants", "4")
    summary = json.loads(out.strip().splitlines()[-1])
    tail = err[err.index("Selesai:"):]
    assert len(tail.splitlines()) <= 6 and "{" not in tail
    assert "5 kabupaten/kota, 2 cabang, 11 pengguna demo" in tail
    assert f"palopo {summary['participants']['palopo']['rows']} baris" in tail
    assert "lutra-asn" in tail and summary["password"] in tail


def test_make_run_keeps_the_seed_json_out_of_the_console(tmp_path, capsys):
    """The seed step's stdout (the JSON line) goes to a file; its stderr is shown, prefixed."""
    import signal
    import sys

    from scripts.procs import ProcessGroup, SignalWatch, run_step

    script = "import sys; print('{\"big\": \"json\"}'); print('Selesai: ringkas', file=sys.stderr)"
    target = tmp_path / "seed.json"
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        with target.open("w", encoding="utf-8") as handle:
            code = run_step(ProcessGroup(env={}), SignalWatch(), "seed", "seed_demo",
                            [sys.executable, "-c", script], stdout=handle)
    finally:  # SignalWatch took Ctrl-C over: give it back to pytest
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert code == 0
    shown = capsys.readouterr().out
    assert "seed   | Selesai: ringkas" in shown and "big" not in shown
    assert json.loads(target.read_text(encoding="utf-8")) == {"big": "json"}
