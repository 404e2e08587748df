from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, using="default", apps=None, **kwargs):
    from django.apps import apps as global_apps

    from .roles import sync_role_permissions

    # post_migrate is sent once per app that has models; act on the last one, when every
    # permission exists (apps without models, such as demo, get no signal).
    with_models = [config for config in global_apps.get_app_configs() if config.models_module]
    if sender.label != with_models[-1].label:
        return

    sync_role_permissions(using=using)


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = _("Agents")

    def ready(self):
        from . import receivers  # noqa: F401  (connects presence to call signals)

        # Connected without a sender: it must run after every app's permissions exist.
        post_migrate.connect(_sync_roles, dispatch_uid="agents.sync_role_permissions")
