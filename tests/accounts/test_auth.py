import re

from django.core import mail
from django.urls import reverse

from accounts.models import User
from donations.models import DonorProfile
from tests.factories import PASSWORD, totp_code

LOGIN = "/accounts/login/"


def test_login_page_is_indonesian_in_our_layout(client, db):
    html = client.get(LOGIN).content.decode()
    assert 'name="login"' in html and 'name="password"' in html
    assert 'href="/accounts/password/reset/"' in html  # "forgot your password?"
    assert "Masuk dengan alamat e-mail dan kata sandi Anda." in html
    assert 'class="site-header"' in html
    assert "Satu untuk Satu" in html


def test_login_with_right_password_then_the_code(client, admin_a):
    response = client.post(LOGIN, {"login": admin_a.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")  # every role has MFA
    assert "_auth_user_id" not in client.session
    response = client.post(response["Location"], {"code": totp_code()})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "_auth_user_id" in client.session


def test_wrong_password_and_unknown_email_get_the_same_message(client, admin_a):
    wrong = client.post(LOGIN, {"login": admin_a.email, "password": "salah-sekali"})
    unknown = client.post(LOGIN, {"login": "tidak.ada@example.test", "password": "salah-sekali"})
    assert wrong.status_code == unknown.status_code == 200
    assert "_auth_user_id" not in client.session

    def error(response):
        return re.search(r'<div class="alert alert-error error-summary"[^>]*>(.*?)</div>', response.content.decode(), re.S).group(1)

    assert error(wrong) == error(unknown)
    assert "tidak ada" not in error(unknown).lower() or "tidak.ada" not in error(unknown)


def test_donor_signup_verify_and_login(client, db):
    page = client.get("/accounts/signup/")
    assert page.status_code == 200
    assert "donatur dari masyarakat" in page.content.decode()
    response = client.post("/accounts/signup/", {
        "email": "warga@example.test", "password1": "Kopi-Toraja-2026!", "password2": "Kopi-Toraja-2026!",
    })
    assert response.status_code == 302
    sent_page = client.get(response["Location"])
    assert sent_page.status_code == 200
    assert 'class="site-header"' in sent_page.content.decode()
    user = User.objects.get(email="warga@example.test")
    assert DonorProfile.objects.filter(user=user).exists()
    assert "_auth_user_id" not in client.session  # verification is mandatory
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", mail.outbox[0].body).group(1)
    confirm = client.get(link)
    assert confirm.status_code == 200
    assert 'class="site-header"' in confirm.content.decode()
    done = client.post(link)
    assert done.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert user.emailaddress_set.get().verified


def test_signup_with_a_taken_email_does_not_reveal_it(client, admin_a):
    response = client.post("/accounts/signup/", {
        "email": admin_a.email, "password1": "Kopi-Toraja-2026!", "password2": "Kopi-Toraja-2026!",
    })
    assert response.status_code == 302  # same as a new address: "check your e-mail"
    assert User.objects.filter(email=admin_a.email).count() == 1


def test_password_reset_sends_an_email(client, admin_a):
    page = client.get("/accounts/password/reset/")
    assert page.status_code == 200
    response = client.post("/accounts/password/reset/", {"email": admin_a.email})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    assert 'name="password1"' in form.content.decode()


def test_logout_is_a_post_with_a_confirm_page(client, admin_a):
    client.force_login(admin_a)
    assert client.get("/accounts/logout/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
