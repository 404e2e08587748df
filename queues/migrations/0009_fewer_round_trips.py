"""QueueVisit.offered: routing's mark that the caller was offered to an agent. Visits that
exist already are marked (an offer of theirs may be open); new ones start unmarked."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("queues", "0008_queue_priority"),
    ]

    operations = [
        migrations.AddField(
            model_name="queuevisit",
            name="offered",
            field=models.BooleanField(default=True, verbose_name="offered to an agent"),
        ),
        migrations.AlterField(
            model_name="queuevisit",
            name="offered",
            field=models.BooleanField(default=False, verbose_name="offered to an agent"),
        ),
    ]
