from django.urls import path

from apps.billing import views

urlpatterns = [
    path("", views.billing, name="billing"),
    path("plan/", views.plan_choose, name="billing-plan"),
    path("portal/", views.portal, name="billing-portal"),
    path("pack/", views.pack_buy, name="billing-pack"),
    path("wallet/", views.wallet_settings, name="billing-wallet"),
    path("card/", views.card_offline, name="billing-card"),
]
