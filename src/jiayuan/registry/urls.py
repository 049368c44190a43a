from django.urls import path

from jiayuan.registry import views

app_name = "registry"

urlpatterns = [
    path("registry/tree/", views.tree, name="tree"),
    path("registry/tree/<slug:level>/<str:code>/", views.tree_node, name="tree_node"),
    path("registry/map/", views.map_page, name="map"),
    path("registry/map/compounds.geojson", views.compounds_geojson, name="compounds_geojson"),
    path("registry/map/neighbourhoods.geojson", views.neighbourhoods_geojson,
         name="neighbourhoods_geojson"),
    path("registry/compounds/<str:code>/", views.compound_page, name="compound"),
    path("registry/compounds/<str:code>/home-codes/", views.compound_home_codes,
         name="compound_home_codes"),
    path("registry/entrances/<str:code>/home-code.svg", views.entrance_home_code_svg,
         name="entrance_home_code"),
    path("h/<str:token>/", views.home_code_landing, name="home_code_landing"),
]
