from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from records.api import views

router = DefaultRouter(trailing_slash=True)
router.include_format_suffixes = False
router.register("subjects", views.SubjectViewSet, basename="subject")
router.register("properties", views.PropertyViewSet, basename="property")
router.register("facts", views.FactViewSet, basename="fact")
router.register("claims", views.ClaimViewSet, basename="claim")
router.register("sources", views.SourceViewSet, basename="source")

urlpatterns = [
    path("v1/changes/", views.ChangeFeedView.as_view(), name="changes"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    re_path(r"^.*$", views.not_found),
]
