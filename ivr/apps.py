from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IvrConfig(AppConfig):
    name = "ivr"
    verbose_name = _("Call flows")

    def ready(self):
        from . import receivers  # noqa: F401  (configuration token on every save)
