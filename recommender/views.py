"""Shop by photo pages: upload (with the phone's camera), live progress and results, history. Thin views:
the result page reads the same API the mobile clients use."""

from __future__ import annotations

import math

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError
from recommender.inference import CLASS_COLOURS
from recommender.models import PhotoSearch
from recommender.selectors.photo_search import owner_of, photo_search_get, photo_search_list
from recommender.selectors.product_page import product_recommendations
from recommender.services.photo_search import BOX_SLOTS, photo_search_create, photo_search_delete
from recommender.throttles import PhotoUploadThrottle

#: Outline colours per slot: the segmenter's overlay colours, and orange for outerwear.
SLOT_COLOURS = {**{k: "#{:02x}{:02x}{:02x}".format(*v) for k, v in CLASS_COLOURS.items()}, "outerwear": "#f58231"}


class PhotoUploadForm(forms.Form):
    # Two inputs share the name: one opens the camera on phones, the other the photo library.
    # Browsers send only the one that was used; the service checks the file itself.
    photo = forms.FileField(label="Outfit photo")


def _owner(request: HttpRequest, *, create: bool = False):
    return owner_of(user=request.user, session=request.session, create=create)


def photo_search_home(request: HttpRequest) -> HttpResponse:
    """The upload form and the visitor's own searches."""
    form = PhotoUploadForm(request.POST or None, request.FILES or None)
    wait = None  # seconds, when the upload rate refused this one
    if request.method == "POST" and form.is_valid():
        throttle = PhotoUploadThrottle()
        if not throttle.allow_request(request, None):
            wait = throttle.wait() or 60
            minutes = max(1, round(wait / 60))
            form.add_error("photo", f"You have uploaded many photos in a short time; try again in {minutes} min.")
        else:
            owner = _owner(request, create=True)
            try:
                search = photo_search_create(
                    upload=form.cleaned_data["photo"],
                    user=owner.user,
                    visitor_key=owner.visitor_key,
                    channel=PhotoSearch.Channel.WEB,
                )
            except ApplicationError as exc:
                form.add_error("photo", exc.message)
            else:
                return redirect("recommender:photo-search-detail", pk=search.pk)
    searches = photo_search_list(owner=_owner(request))[:50]
    status = 429 if wait is not None else 400 if form.errors else 200
    context = {"form": form, "searches": searches, "retention_days": settings.PHOTO_SEARCH_RETENTION_DAYS}
    response = render(request, "recommender/photo_search_home.html", context, status=status)
    if wait is not None:
        response["Retry-After"] = str(math.ceil(wait))
    return response


def photo_search_detail(request: HttpRequest, pk) -> HttpResponse:
    search = photo_search_get(search_id=pk, owner=_owner(request))
    if search is None:
        raise Http404("No such photo search.")
    api = {"version": "v1", "pk": search.pk}
    context = {
        "search": search,
        "api_url": reverse("api-photo-search-detail", kwargs=api),
        "crops_url": reverse("api-photo-search-crops", kwargs=api),
        "retry_url": reverse("api-photo-search-retry", kwargs=api),
        "photo_url": reverse("api-photo-search-photo", kwargs=api),
        "slots": BOX_SLOTS,
        "slot_colours": SLOT_COLOURS,
    }
    return render(request, "recommender/photo_search_detail.html", context)


class PhotoSearchDeleteForm(forms.Form):
    # Sent only by the confirmation page's button: a POST without it deletes nothing.
    confirm = forms.BooleanField(required=True)


@require_http_methods(["GET", "HEAD", "POST"])
def photo_search_remove(request: HttpRequest, pk) -> HttpResponse:
    """GET: "Delete this search and its photo?" with the photo; POST with ``confirm``: delete it.
    A POST without ``confirm`` (an old page's button) shows the question instead of deleting."""
    search = photo_search_get(search_id=pk, owner=_owner(request))
    if search is None:
        raise Http404("No such photo search.")
    form = PhotoSearchDeleteForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        photo_search_delete(search=search)
        messages.success(request, "The search, its photo and its garments are deleted.")
        return redirect("recommender:photo-search-home")
    context = {
        "search": search,
        "photo_url": reverse("api-photo-search-photo", kwargs={"version": "v1", "pk": search.pk}),
    }
    return render(request, "recommender/photo_search_confirm_delete.html", context)


def product_page_sections(*, request: HttpRequest, product) -> dict:
    """The shop's product page sections ("Complete the look", "Similar items"), registered in
    ``shop.sections``; ``?cheaper=1`` asks for cheaper similar items."""
    return product_recommendations(product=product, cheaper=request.GET.get("cheaper") == "1")
