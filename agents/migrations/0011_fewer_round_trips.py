"""Agent.may_have_offer: routing's mark that an offer of the agent may be open. Agents that
exist already are marked (the first look clears it); new ones start unmarked."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0010_routing"),
    ]

    operations = [
        migrations.AddField(
            model_name="agent",
            name="may_have_offer",
            field=models.BooleanField(default=True, verbose_name="may have an open offer"),
        ),
        migrations.AlterField(
            model_name="agent",
            name="may_have_offer",
            field=models.BooleanField(default=False, verbose_name="may have an open offer"),
        ),
    ]
