import uuid

from django.db import migrations, models


def create_the_row(apps, schema_editor):
    apps.get_model("telephony", "ConfigVersion").objects.get_or_create(
        pk=1, defaults={"token": uuid.uuid4().hex}
    )


class Migration(migrations.Migration):
    dependencies = [("telephony", "0002_verbose_names")]

    operations = [
        migrations.CreateModel(
            name="ConfigVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(blank=True, max_length=32, verbose_name="token")),
            ],
            options={
                "verbose_name": "configuration version",
                "verbose_name_plural": "configuration versions",
            },
        ),
        migrations.RunPython(create_the_row, migrations.RunPython.noop),
    ]
