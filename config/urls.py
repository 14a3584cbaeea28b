from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.views import favicon, healthz
from shop.api.errors import unknown_api_path

admin.site.site_header = "Fashion shop — curators"
admin.site.site_title = "Fashion shop admin"
# The app list stays on the admin home page; without the sidebar every list fits a 1366 px screen.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("healthz", healthz, name="healthz"),  # load balancers: database, Redis and storage (docs/DEPLOY.md)
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    re_path(r"^api/(?P<version>v1)/", include("shop.api.urls")),
    re_path(r"^api/(?P<version>v1)/", include("recommender.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(api_version="v1"), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script, so the CSP holds.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/(?P<path>.*)$", unknown_api_path),  # last of /api/: the JSON 404, with DEBUG on too
    path("", include("recommender.urls")),
    path("", include("shop.urls")),
]

if settings.DEBUG or settings.SERVE_MEDIA:
    # Local files only; production serves media from S3 or the web server.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]

# The whole /api/ tree answers JSON in the one error shape, even for URLs no view matches.
handler400 = "shop.api.errors.bad_request"
handler403 = "shop.api.errors.permission_denied"
handler404 = "shop.api.errors.page_not_found"
handler500 = "shop.api.errors.server_error"
