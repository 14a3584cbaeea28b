"""Shop by photo pages: navigation, upload (camera on phones), bad input, ownership, history and delete."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from recommender.models import OutfitPhoto, PhotoSearch
from tests.factories import UserFactory
from tests.images import truncated_jpeg
from tests.recommender.test_photo_search import outfit_upload, upload

pytestmark = pytest.mark.django_db(transaction=True)
HOME = "/shop-by-photo/"


def _upload(client, photo=None):
    return client.post(HOME, {"photo": photo or outfit_upload()})


def test_shop_by_photo_is_in_the_navigation_and_offers_the_camera_on_phones(client):
    home = client.get(reverse("shop:home")).content.decode()
    assert f'href="{HOME}"' in home and "Shop by photo" in home
    page = client.get(HOME).content.decode()
    assert 'accept="image/*" capture="environment"' in page
    assert 'name="photo" accept="image/*" data-testid="photo-input"' in page  # the photo library too
    assert 'data-testid="history-empty"' in page


def test_an_upload_leads_to_its_result_page_and_into_the_history(client, unconsumed_queue):
    response = _upload(client)
    search = PhotoSearch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{HOME}{search.pk}/"
    assert search.channel == "web" and search.status == "queued"
    page = client.get(response["Location"]).content.decode()
    assert f'data-api="/api/v1/photo-searches/{search.pk}/"' in page and "Queued" in page
    history = client.get(HOME).content.decode()
    assert history.count('data-testid="history-item"') == 1 and str(search.pk) in history


@pytest.mark.parametrize(
    ("photo", "message"),
    [
        (upload(b"not a photo at all", "me.jpg"), "not an image format we can read"),
        (upload(truncated_jpeg(), "me.jpg"), "damaged or truncated"),
        (upload(b"", "me.jpg"), "The submitted file is empty."),
    ],
    ids=["wrong-extension", "truncated-jpeg", "zero-bytes"],
)
def test_a_bad_upload_shows_a_clear_message_and_saves_nothing(client, photo, message, unconsumed_queue):
    response = _upload(client, photo)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PhotoSearch.objects.exists() and not OutfitPhoto.objects.exists()


def test_another_visitors_or_users_search_answers_404(client, unconsumed_queue):
    _upload(client)
    search = PhotoSearch.objects.get()
    urls = [f"{HOME}{search.pk}/", f"/api/v1/photo-searches/{search.pk}/photo/"]

    from django.test import Client

    other_visitor, other_user, logged_out = Client(), Client(), Client()
    _upload(other_visitor)  # a visitor with a session and a search of their own
    other_user.force_login(UserFactory(username="stranger"))
    for stranger in (other_visitor, other_user, logged_out):
        assert [stranger.get(url).status_code for url in urls] == [404, 404]
        assert stranger.get(f"{HOME}{search.pk}/delete/").status_code == 404
        assert stranger.post(f"{HOME}{search.pk}/delete/", {"confirm": "yes"}).status_code == 404
        assert str(search.pk) not in stranger.get(HOME).content.decode()
    assert [client.get(url).status_code for url in urls] == [200, 200]
    assert client.get(f"{HOME}00000000-0000-0000-0000-000000000000/").status_code == 404


def test_a_signed_in_customer_deletes_a_search_from_the_history_after_confirming(client, unconsumed_queue):
    client.force_login(UserFactory(username="ada"))
    _upload(client)
    search = PhotoSearch.objects.get()
    assert search.user.username == "ada" and search.visitor_key == ""
    photo_name = search.photo.image.name
    delete_url = f"{HOME}{search.pk}/delete/"
    assert f'<a href="{delete_url}" data-testid="history-delete">' in client.get(HOME).content.decode()
    assert f'<a href="{delete_url}" data-testid="delete-search">' in client.get(f"{HOME}{search.pk}/").content.decode()

    question = client.get(delete_url)
    page = question.content.decode()
    assert question.status_code == 200 and "Delete this search?" in page
    assert f'<form method="post" action="{delete_url}"' in page and 'name="confirm" value="yes"' in page
    assert "csrfmiddlewaretoken" in page and f'src="/api/v1/photo-searches/{search.pk}/photo/"' in page
    unconfirmed = client.post(delete_url)  # a POST without the confirmation asks, and deletes nothing
    assert unconfirmed.status_code == 200 and "Delete this search?" in unconfirmed.content.decode()
    assert PhotoSearch.objects.filter(pk=search.pk).exists() and default_storage.exists(photo_name)

    response = client.post(delete_url, {"confirm": "yes"}, follow=True)

    assert "deleted" in response.content.decode()
    assert not PhotoSearch.objects.exists() and not default_storage.exists(photo_name)


def test_the_upload_page_applies_the_upload_rate_with_a_429_and_a_clear_message(client, settings, unconsumed_queue):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "1000/min", "photo_upload": "1/min"},
    }
    assert _upload(client).status_code == 302
    refused = _upload(client)
    assert refused.status_code == 429 and "many photos in a short time" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 60
    assert PhotoSearch.objects.count() == 1


def test_staff_see_counts_failures_and_timings_and_only_superusers_see_photos(client, unconsumed_queue):
    from django.contrib.auth.models import Permission

    from recommender.services.photo_search import photo_search_create

    done = photo_search_create(upload=outfit_upload())
    PhotoSearch.objects.filter(pk=done.pk).update(
        status="done", progress=100, timings={"decode": 5, "segment": 900, "embed": 80, "match": 20, "total": 1100}
    )
    failed = photo_search_create(upload=outfit_upload())
    PhotoSearch.objects.filter(pk=failed.pk).update(
        status="failed", error_code="photo_missing", error="The photo of this search has been deleted."
    )
    staff = UserFactory(username="curator", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_photosearch"))
    client.force_login(staff)

    listing = client.get(reverse("admin:recommender_photosearch_changelist")).content.decode()
    assert 'data-testid="photo-search-stats"' in listing
    assert "The photo of this search has been deleted." in listing and "1100" in listing
    change = reverse("admin:recommender_photosearch_change", args=[done.pk])
    page = client.get(change).content.decode()
    assert "segment 900" in page and f"/api/v1/photo-searches/{done.pk}/photo/" not in page
    assert client.get(f"/api/v1/photo-searches/{done.pk}/photo/").status_code == 404

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(change).content.decode()
    assert f"/api/v1/photo-searches/{done.pk}/photo/" in page
    assert client.get(f"/api/v1/photo-searches/{done.pk}/photo/").status_code == 200


def test_deleting_a_search_in_the_admin_deletes_its_files(client, unconsumed_queue):
    from recommender.services.photo_search import photo_search_create

    search = photo_search_create(upload=outfit_upload())
    name = search.photo.image.name
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    client.post(
        reverse("admin:recommender_photosearch_changelist"),
        {"action": "delete_selected", "_selected_action": [search.pk], "post": "yes"},
    )
    assert not PhotoSearch.objects.exists() and not default_storage.exists(name)


def test_a_photo_over_the_size_limit_is_refused_with_the_configured_limit(client, settings, unconsumed_queue):
    settings.MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    response = _upload(client, upload(b"\xff\xd8" + b"\0" * (2 * 1024 * 1024), "big.jpg"))
    assert response.status_code == 400
    assert "The file is 2.1 MiB; the limit is 2 MiB." in response.content.decode()
    assert not PhotoSearch.objects.exists()
