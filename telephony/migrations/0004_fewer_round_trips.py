"""Call.bridged: an inbound leg routing put in a bridge. Legs that exist already are marked as
if they had been (their final status keeps the bridge lookup); new legs start unmarked."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("telephony", "0003_webhook_cost"),
    ]

    operations = [
        migrations.AddField(
            model_name="call",
            name="bridged",
            field=models.BooleanField(default=True, verbose_name="put in a bridge"),
        ),
        migrations.AlterField(
            model_name="call",
            name="bridged",
            field=models.BooleanField(default=False, verbose_name="put in a bridge"),
        ),
    ]
