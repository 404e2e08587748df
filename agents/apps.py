from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, using="default", apps=None, **kwargs):
    from django.apps import apps as global_apps

    from .roles import sync_role_permissions

    # post_migrate is sent once per app; act on the last one, when every permission exists.
    if sender.label != list(global_apps.get_app_configs())[-1].label:
        return

    sync_role_permissions(using=using)


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = _("Agents")

    def ready(self):
        from . import receivers  # noqa: F401  (connects presence to call signals)

        # Connected without a sender: it must run after every app's permissions exist.
        post_migrate.connect(_sync_roles, dispatch_uid="agents.sync_role_permissions")
