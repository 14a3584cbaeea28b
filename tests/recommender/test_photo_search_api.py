"""Shop by photo over the API: the 202 flow, ownership, deletion, bad input, boxes, throttling and the schema."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from rest_framework.test import APIClient

from recommender.models import Garment, OutfitPhoto, PhotoSearch
from recommender.services.photo_search import photo_search_run
from tests.factories import UserFactory
from tests.images import bomb_png, truncated_jpeg
from tests.recommender.test_photo_search import indexed_catalog, outfit_upload, upload

LIST = "/api/v1/photo-searches/"

pytestmark = pytest.mark.django_db(transaction=True)


def _post_photo(client, data=None, name="outfit.jpg"):
    photo = upload(data, name) if data is not None else outfit_upload()
    return client.post(LIST, {"photo": photo}, format="multipart")


def _finished(client, url):
    search_id = url.rstrip("/").rsplit("/", 1)[-1]
    photo_search_run(search_id=search_id)
    return client.get(url).json()


def test_an_upload_answers_202_and_its_url_shows_progress_then_garments_with_look_alikes(
    embedder_weights_dir, unconsumed_queue, signed_in_api_client
):
    catalog = indexed_catalog(per_slot=2)
    response = _post_photo(signed_in_api_client)

    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"] and body["url"].endswith(f"/api/v1/photo-searches/{body['id']}/")
    assert (body["status"], body["progress"], body["garments"], body["error"]) == ("queued", 0, [], None)
    assert body["width"] == 275 and body["height"] == 412 and "decode" in body["timings_ms"]

    done = _finished(signed_in_api_client, body["url"])
    assert done["status"] == "done" and done["progress"] == 100 and done["notice"] == ""
    assert {g["slot"] for g in done["garments"]} == {"top", "bottom"}
    for garment in done["garments"]:
        ids = {p["id"] for p in garment["similar"]}
        assert ids and ids <= {p.pk for p in catalog[garment["slot"]]}
        assert garment["origin"] == "segmenter" and len(garment["outline"]) >= 8 and garment["complements"] == []
        crop = signed_in_api_client.get(garment["crop"])
        assert crop.status_code == 200 and crop["Content-Type"] == "image/jpeg"
        assert b"".join(crop.streaming_content)[:2] == b"\xff\xd8"
    photo = signed_in_api_client.get(done["photo"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"

    listing = signed_in_api_client.get(LIST).json()
    assert [(s["id"], s["status"], s["garment_count"]) for s in listing] == [(body["id"], "done", 2)]


def test_nobody_but_the_owner_reads_a_search_its_photo_or_its_crops(embedder_weights_dir, unconsumed_queue):
    owner = APIClient()
    owner.force_authenticate(UserFactory(username="owner"))
    body = _post_photo(owner).json()
    done = _finished(owner, body["url"])
    urls = [done["url"], done["photo"], done["garments"][0]["crop"]]

    other_user = APIClient()
    other_user.force_authenticate(UserFactory(username="someone-else"))
    other_visitor = APIClient()
    other_visitor.post(LIST, {"photo": outfit_upload()}, format="multipart")  # a visitor with searches of their own
    logged_out = APIClient()
    for client in (other_user, other_visitor, logged_out):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
        assert client.delete(done["url"]).status_code == 404
        box = {"box": [0, 0, 50, 50], "slot": "top"}
        assert client.post(done["url"] + "crops/", box, format="json").status_code == 404
        assert body["id"] not in {s["id"] for s in client.get(LIST).json()}
    assert owner.get(done["url"]).status_code == 200

    superuser = APIClient()
    superuser.force_authenticate(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert superuser.get(done["photo"]).status_code == 200


def test_an_anonymous_visitor_owns_searches_through_the_session(embedder_weights_dir, unconsumed_queue):
    visitor = APIClient()
    body = _post_photo(visitor).json()
    assert visitor.get(body["url"]).status_code == 200
    assert [s["id"] for s in visitor.get(LIST).json()] == [body["id"]]
    search = PhotoSearch.objects.get(pk=body["id"])
    assert search.user is None and len(search.visitor_key) == 32 and search.channel == "api"


def test_the_owner_deletes_a_search_with_its_photo_and_crops_at_once(
    embedder_weights_dir, unconsumed_queue, signed_in_api_client
):
    body = _post_photo(signed_in_api_client).json()
    _finished(signed_in_api_client, body["url"])
    search = PhotoSearch.objects.get(pk=body["id"])
    files = [search.photo.image.name, *(g.crop.name for g in search.photo.garments.all())]
    assert all(default_storage.exists(name) for name in files)

    assert signed_in_api_client.delete(body["url"]).status_code == 204

    assert signed_in_api_client.get(body["url"]).status_code == 404
    assert not PhotoSearch.objects.exists() and not OutfitPhoto.objects.exists() and not Garment.objects.exists()
    assert not any(default_storage.exists(name) for name in files)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"hello, this is text", "outfit.txt", "not an image format we can read"),
        (b"GIF89a but not really", "outfit.jpg", "not an image format we can read"),
        (truncated_jpeg(), "outfit.jpg", "damaged or truncated"),
        (bomb_png(), "outfit.png", "too large"),
        (b"", "outfit.jpg", "empty"),
    ],
    ids=["non-image", "wrong-extension", "truncated-jpeg", "decompression-bomb", "zero-bytes"],
)
def test_a_bad_upload_gets_a_clear_error_in_the_one_error_shape(data, name, message, unconsumed_queue):
    response = _post_photo(APIClient(), data, name)
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and message in error["message"]
    assert not PhotoSearch.objects.exists() and not OutfitPhoto.objects.exists()


def test_a_file_over_the_size_limit_gets_a_clear_error(settings, unconsumed_queue):
    settings.MAX_UPLOAD_BYTES = 10_000
    response = _post_photo(APIClient())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_too_large"


def test_an_upload_without_a_photo_is_refused(unconsumed_queue):
    response = APIClient().post(LIST, {}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["message"].startswith("photo:")


def test_a_box_is_searched_as_the_chosen_slot_and_a_bad_box_is_refused(
    embedder_weights_dir, unconsumed_queue, signed_in_api_client
):
    indexed_catalog(per_slot=2)
    body = _post_photo(signed_in_api_client).json()
    crops = body["url"] + "crops/"
    running = signed_in_api_client.post(crops, {"box": [10, 10, 100, 100], "slot": "top"}, format="json")
    assert running.status_code == 409 and running.json()["error"]["code"] == "search_running"
    _finished(signed_in_api_client, body["url"])

    for box, code in (([0, 0, 9999, 100], "box_outside_photo"), ([30, 30, 30, 90], "empty_box")):
        refused = signed_in_api_client.post(crops, {"box": box, "slot": "top"}, format="json")
        assert refused.status_code == 400 and refused.json()["error"]["code"] == code
    bad_slot = signed_in_api_client.post(crops, {"box": [0, 0, 50, 50], "slot": "hat"}, format="json")
    assert bad_slot.status_code == 400 and bad_slot.json()["error"]["message"].startswith("slot:")

    accepted = signed_in_api_client.post(crops, {"box": [20, 250, 200, 400], "slot": "dress"}, format="json")
    assert accepted.status_code == 202 and accepted.json()["status"] == "embedding"
    done = _finished(signed_in_api_client, body["url"])
    [drawn] = [g for g in done["garments"] if g["origin"] == "box"]
    assert drawn["slot"] == "dress" and drawn["bbox"] == [20, 250, 200, 400] and drawn["similar"]


def test_uploads_have_their_own_stricter_rate(settings, unconsumed_queue):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "1000/min", "photo_upload": "2/min"},
    }
    client = APIClient()
    assert [_post_photo(client).status_code for _ in range(2)] == [202, 202]
    throttled = _post_photo(client)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled" and throttled.json()["error"]["details"]
    assert client.get(LIST).status_code == 200  # reading is not an upload
    assert PhotoSearch.objects.count() == 2


def test_the_photo_search_api_is_in_the_openapi_schema(client):
    spec = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = spec["paths"]
    assert set(paths["/api/v1/photo-searches/"]) >= {"get", "post"}
    assert set(paths["/api/v1/photo-searches/{id}/"]) >= {"get", "delete"}
    assert "post" in paths["/api/v1/photo-searches/{id}/crops/"]
    upload_op = paths["/api/v1/photo-searches/"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert {"202", "400", "429"} <= set(upload_op["responses"])
    detail = spec["components"]["schemas"]["PhotoSearch"]["properties"]
    assert {"status", "progress", "garments", "timings_ms", "error", "notice"} <= set(detail)
