"""Querysets built and compiled once per process, run many times with new values.

Building a queryset (filters, subqueries, annotations) and compiling it to SQL costs a hot
statement of routing one to two milliseconds of Python before the database sees it, more than
the database then spends on it. A :class:`Prepared` statement is the same queryset, written with
:class:`Param` placeholders where its values change: it is built and compiled the first time it
runs on a database, and every later run only binds the values, executes the SQL and turns the
rows into instances as the ORM does (docs/architecture.md §7). The queryset stays the one
definition of what is read or written; only its compilation is kept.

Only what a statement's shape does not depend on may be a parameter: a value compared, set or
bound, not a list whose length varies (give each length its own statement) nor a setting read
while building.
"""

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Expression
from django.db.models.query import get_related_populators
from django.db.models.sql import UpdateQuery
from django.db.transaction import TransactionManagementError


class Param(Expression):
    """A value given each time a :class:`Prepared` statement runs, under ``name``; bound as
    ``output_field`` binds a value of its own (``get_db_prep_value``)."""

    def __init__(self, name: str, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def __repr__(self) -> str:
        return f"Param({self.name!r})"

    def as_sql(self, compiler, connection):
        return "%s", [self]


def _locks(connection, query) -> bool:
    """Whether the statement locks rows (where the database can), so needs a transaction."""
    return bool(query.select_for_update and connection.features.has_select_for_update)


class _Compiled:
    """One statement compiled for one database: its SQL, its parameters (Params to bind, and
    the constants the ORM compiled in) and what turns its rows into instances."""

    def __init__(self, connection, sql: str, params, *, locks: bool):
        # Connections belong to a thread: each run uses its own thread's (by alias).
        self.alias = connection.alias
        self.sql = sql
        self.params = tuple(params)
        self.binds = [
            (index, param) for index, param in enumerate(self.params) if isinstance(param, Param)
        ]
        self.locks = locks

    def bind(self, connection, values: dict) -> list:
        if self.locks and connection.get_autocommit():
            # As the ORM refuses it: a lock outside a transaction is released at once.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(self.params)
        for index, param in self.binds:
            params[index] = param.output_field.get_db_prep_value(
                values[param.name], connection, prepared=False
            )
        return params


class _Rows(_Compiled):
    def __init__(self, connection, queryset):
        if queryset._fields is not None or queryset._prefetch_related_lookups:
            # Neither is replayed here: refused rather than silently ignored.
            raise ValueError("a prepared read gives instances: no values() nor prefetch_related()")
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        super().__init__(connection, sql, params, locks=_locks(connection, queryset.query))
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, connection.alias)
        self.annotations = tuple(compiler.annotation_col_map.items())
        self.converters = tuple(compiler.get_converters([column[0] for column in select]).items())

    def run(self, values: dict) -> list:
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.bind(connection, values))
            rows = cursor.fetchall()
        found = []
        for row in rows:
            if self.converters:
                row = list(row)
                for position, (converters, expression) in self.converters:
                    for converter in converters:
                        row[position] = converter(row[position], expression, connection)
            instance = self.model.from_db(self.alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, instance)
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found


class _Exists(_Compiled):
    def __init__(self, connection, queryset):
        query = queryset.query.exists()
        sql, params = query.get_compiler(connection=connection).as_sql()
        super().__init__(connection, sql, params, locks=_locks(connection, query))

    def run(self, values: dict) -> bool:
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.bind(connection, values))
            return cursor.fetchone() is not None


class _Count(_Compiled):
    def __init__(self, connection, queryset):
        inner = queryset.order_by().values("pk").query
        sql, params = inner.get_compiler(connection=connection).as_sql()
        super().__init__(connection, f"SELECT COUNT(*) FROM ({sql}) counted", params, locks=False)

    def run(self, values: dict) -> int:
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.bind(connection, values))
            return cursor.fetchone()[0]


class _Update(_Compiled):
    def __init__(self, connection, built):
        queryset, changes = built
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(changes)
        if query.related_updates:
            raise ValueError("a prepared update changes one table")
        sql, params = query.get_compiler(connection=connection).as_sql()
        super().__init__(connection, sql, params, locks=False)

    def run(self, values: dict) -> int:
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.bind(connection, values))
            return cursor.rowcount


class Prepared:
    """``build()`` — a queryset written with :class:`Param` placeholders (for :meth:`update`,
    a ``(queryset, changes)`` pair) — built and compiled once per database and use, then run
    with the values of its parameters::

        AGENT = Prepared(lambda: Agent.objects.filter(pk=Param("pk", IntegerField())))
        AGENT.first(pk=3)

    It runs on the database the router names for the model, as the queryset would: its
    writer for an update or a locking read."""

    def __init__(self, build):
        self.build = build
        self._route = None  # (model, writes), from the first build
        self._compiled: dict = {}

    def _statement(self, kind, using):
        built = None
        if using is None:
            if self._route is None:
                built = self.build()
                queryset = built[0] if isinstance(built, tuple) else built
                self._route = (
                    queryset.model,
                    isinstance(built, tuple) or bool(queryset.query.select_for_update),
                )
            model, writes = self._route
            using = (router.db_for_write if writes else router.db_for_read)(model)
        key = (kind, using or DEFAULT_DB_ALIAS)
        statement = self._compiled.get(key)
        if statement is None:
            statement = self._compiled[key] = kind(
                connections[key[1]], built if built is not None else self.build()
            )
        return statement

    def rows(self, *, using=None, **values) -> list:
        """The instances the queryset gives (its select_related and annotations included)."""
        return self._statement(_Rows, using).run(values)

    def first(self, *, using=None, **values):
        """The first instance, or None (the queryset gives its order and limit)."""
        found = self.rows(using=using, **values)
        return found[0] if found else None

    def get(self, *, using=None, **values):
        """The first instance; the model's ``DoesNotExist`` when there is none, as
        ``QuerySet.get`` raises it."""
        statement = self._statement(_Rows, using)
        found = statement.run(values)
        if not found:
            raise statement.model.DoesNotExist(
                f"{statement.model._meta.object_name} matching {values} does not exist."
            )
        return found[0]

    def exists(self, *, using=None, **values) -> bool:
        return self._statement(_Exists, using).run(values)

    def count(self, *, using=None, **values) -> int:
        return self._statement(_Count, using).run(values)

    def update(self, *, using=None, **values) -> int:
        """How many rows ``queryset.update(**changes)`` changed."""
        return self._statement(_Update, using).run(values)


class Family:
    """Prepared statements whose shape depends on a key (a set of queue ids, say): ``make(key)``
    gives the statement(s) for a key the first time it is asked for. At most ``size`` keys are
    kept, so keys that keep changing cannot fill the process's memory."""

    def __init__(self, make, *, size: int = 256):
        self.make = make
        self.size = size
        self._by_key: dict = {}

    def __getitem__(self, key):
        found = self._by_key.get(key)
        if found is None:
            if len(self._by_key) >= self.size:
                self._by_key.clear()
            found = self._by_key[key] = self.make(key)
        return found
