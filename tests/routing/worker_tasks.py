"""A task for the worker's own tests: it holds a task slot for a while, as a task waiting on
Twilio's REST API does."""

import time

from django_tasks import task


@task()
def hold(seconds: float) -> None:
    time.sleep(seconds)
