"""The worker's task backend: django-tasks-db's, with a task's row written by one INSERT whose
text is made once per database, instead of the ORM building an insert for every task
(docs/architecture.md §7). A routed call enqueues five or six tasks, most of them inside
Twilio's webhooks.

The row is the one django-tasks-db writes: the same instance, its defaults, ``pre_save`` and
``post_save`` sent as ``Model.save`` sends them (django-tasks-db's own receiver sets
``run_after`` there), the values prepared as the ORM prepares them (``telephony.rows``).
"""

from django.db import connections, router
from django.db.models.signals import post_save, pre_save
from django_tasks_db.backend import DatabaseBackend as BaseDatabaseBackend
from django_tasks_db.compat import normalize_json

from telephony import rows

_insert_sql: dict = {}


def _insert(connection, model) -> str:
    sql = _insert_sql.get(connection.vendor)
    if sql is None:
        sql = _insert_sql[connection.vendor] = "INSERT INTO {} ({}) VALUES ({})".format(
            connection.ops.quote_name(model._meta.db_table),
            rows.column_list(model),
            ", ".join(["%s"] * len(model._meta.concrete_fields)),
        )
    return sql


class DatabaseBackend(BaseDatabaseBackend):
    def _task_to_db_task(self, task, args, kwargs):
        from django_tasks_db.models import DBTaskResult

        result = DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        )
        using = router.db_for_write(DBTaskResult, instance=result)
        connection = connections[using]
        pre_save.send(
            sender=DBTaskResult, instance=result, raw=False, using=using, update_fields=None
        )
        fields = DBTaskResult._meta.concrete_fields
        values = rows.prepare(
            fields, [field.pre_save(result, True) for field in fields], connection
        )
        with connection.cursor() as cursor:
            cursor.execute(_insert(connection, DBTaskResult), values)
        result._state.adding = False
        result._state.db = using
        post_save.send(
            sender=DBTaskResult,
            instance=result,
            created=True,
            update_fields=None,
            raw=False,
            using=using,
        )
        return result
