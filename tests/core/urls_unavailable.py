"""Views whose database is unreachable: a real connection attempt to a port nothing listens on."""

from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper
from django.http import HttpResponse
from django.urls import path

from tests.core.test_healthz import closed_port


def _query_an_unreachable_database(request):
    unreachable = DatabaseWrapper({**connection.settings_dict, "HOST": "127.0.0.1", "PORT": str(closed_port())})
    unreachable.ensure_connection()
    return HttpResponse("unreachable")


def _bug(request):
    raise ValueError("a real bug")


urlpatterns = [
    path("page/", _query_an_unreachable_database),
    path("api/v1/thing/", _query_an_unreachable_database),
    path("bug/", _bug),
]
handler500 = "shop.api.errors.server_error"
