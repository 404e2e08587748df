"""Allow outbound calls to Japanese numbers out of the box; nothing else until a supervisor adds it."""

from django.db import migrations


def add_japan(apps, schema_editor):
    DialPrefix = apps.get_model("agents", "DialPrefix")
    DialPrefix.objects.get_or_create(prefix="+81", defaults={"description": "Japan"})


def remove_japan(apps, schema_editor):
    DialPrefix = apps.get_model("agents", "DialPrefix")
    DialPrefix.objects.filter(prefix="+81", description="Japan").delete()


class Migration(migrations.Migration):
    dependencies = [("agents", "0003_customers_notes_dispositions_dial_prefixes")]

    operations = [migrations.RunPython(add_japan, remove_japan)]
