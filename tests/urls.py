from django.apps import apps
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.documents import urls as wagtaildocs_urls

from wagtail_smarttags.api import v2 as smart_tags_api

api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("images", smart_tags_api.SmartTagsImagesAPIViewSet)
api_router.register_endpoint("documents", smart_tags_api.SmartTagsDocumentsAPIViewSet)
if apps.is_installed("wagtailmedia"):
    api_router.register_endpoint("media", smart_tags_api.SmartTagsMediaAPIViewSet)

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("api/v2/", api_router.urls),
]
if apps.is_installed("wagtail.api.v3"):  # Wagtail 8's API v3 preview
    from wagtail.api.v3.urls import api as api_v3

    urlpatterns.append(path("api/v3/", api_v3.urls))
urlpatterns.append(path("", include(wagtail_urls)))
