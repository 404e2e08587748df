"""Every saved or deleted piece of a call flow gives the configuration a new token, so the
snapshots each process keeps (telephony.configcache) are rebuilt at the next call."""

from django.db.models.signals import post_delete, post_save

from telephony.configcache import config_changed

from .models import BusinessHours, Flow, Holiday, MenuOption, OpeningRange, PhoneNumber, Step

CONFIG_MODELS = (Flow, PhoneNumber, Step, MenuOption, BusinessHours, OpeningRange, Holiday)


def on_config_saved(sender, **kwargs):
    config_changed()


for _model in CONFIG_MODELS:
    post_save.connect(on_config_saved, sender=_model, dispatch_uid=f"ivr.config.save.{_model}")
    post_delete.connect(on_config_saved, sender=_model, dispatch_uid=f"ivr.config.del.{_model}")
