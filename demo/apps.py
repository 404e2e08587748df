from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data and synthetic history: the top of the layers, imported by nothing."""

    name = "demo"
    verbose_name = _("Demo")
