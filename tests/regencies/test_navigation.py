"""The menu's regencies and branches are cached per user and read again when a role changes."""

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from regencies.context_processors import _nav_key
from regencies.models import Membership
from regencies.roles import Role


def _menu(client, regency):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("regency_home", kwargs={"regency_slug": regency.slug}))
    assert response.status_code == 200
    page = response.content.decode()
    menu = page[page.index('<nav class="site-nav"'):page.index("</nav>")]
    return menu, len(captured.captured_queries)


def test_the_menu_follows_the_users_roles(client, admin_a, regency_a, regency_b):
    client.force_login(admin_a)
    first, _queries = _menu(client, regency_a)
    again, _queries = _menu(client, regency_a)
    assert regency_b.name not in first and regency_b.name not in again and regency_a.name in again
    assert cache.get(_nav_key(admin_a.pk)) is not None  # the menu's two lists, for the next pages

    given = Membership.objects.create(regency=regency_b, user=admin_a, role=Role.ASSESSOR)
    with_b, _queries = _menu(client, regency_a)
    assert regency_b.name in with_b and regency_a.name in with_b

    given.delete()
    without_b, _queries = _menu(client, regency_a)
    assert regency_b.name not in without_b


def test_a_new_regency_reaches_the_operators_menu(client, regency_a):
    from tests.factories import RegencyFactory, operator

    client.force_login(operator())
    before, _queries = _menu(client, regency_a)
    added = RegencyFactory(name="Kabupaten Baru")
    after, _queries = _menu(client, regency_a)
    assert added.name not in before and added.name in after
