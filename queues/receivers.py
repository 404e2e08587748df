"""A saved or deleted queue (or its messages) gives the configuration a new token, so the
queues each process keeps (telephony.configcache) are read again at the next webhook."""

from django.db.models.signals import post_delete, post_save

from telephony.configcache import config_changed

from .models import Queue, QueueMessages


def on_config_saved(sender, **kwargs):
    config_changed()


for _model in (Queue, QueueMessages):
    post_save.connect(on_config_saved, sender=_model, dispatch_uid=f"queues.config.save.{_model}")
    post_delete.connect(on_config_saved, sender=_model, dispatch_uid=f"queues.config.del.{_model}")
