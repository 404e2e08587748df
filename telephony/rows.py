"""Model instances from the rows of a hand-written statement, for the few hot reads and writes
that skip the ORM's query building (docs/architecture.md §7): what the ORM would give for the
same row, the database's values converted as a query converts them (SQLite's datetimes and
booleans, for example), at the cost of a tuple and a loop."""

from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connections, models

_converters: dict = {}
# The plain kinds of field whose values prepare() hands over itself (exact types: a subclass
# may prepare its values its own way).
_TEXT = (models.CharField, models.TextField)
_kinds: dict = {}


def column_list(model) -> str:
    """The model's columns in field order, for a SELECT or RETURNING that ``from_row`` reads."""
    return ", ".join(field.column for field in model._meta.concrete_fields)


def from_row(model, row):
    """An instance of ``model`` from a row whose first columns are ``column_list(model)``."""
    db = connections[DEFAULT_DB_ALIAS]  # looked up once, not at each use of the proxy
    fields = model._meta.concrete_fields
    values = list(row[: len(fields)])
    for index, converters in _converters_of(model, db):
        for converter, column in converters:
            values[index] = converter(values[index], column, db)
    return model.from_db(db.alias, None, values)


def _converters_of(model, connection) -> list:
    """(index, [(converter, column)]) of the model's columns this database converts."""
    key = (connection.vendor, model._meta.label)
    found = _converters.get(key)
    if found is None:
        found = []
        for index, field in enumerate(model._meta.concrete_fields):
            column = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            )
            if converters:
                found.append((index, [(converter, column) for converter in converters]))
        _converters[key] = found
    return found


def prepare(fields, values, connection) -> list:
    """What ``field.get_db_prep_save(value, connection)`` gives for each field and value, for
    the parameters of a hot hand-written statement: text given as ``str`` and aware datetimes
    are handed over as Django would hand them (the text as it is, the datetime through the
    backend's adapter) without the calls in between; any other field or value goes through
    ``get_db_prep_save``."""
    adapt = connection.ops.adapt_datetimefield_value
    prepared = []
    for field, value in zip(fields, values, strict=True):
        kind = _kinds.get(field)
        if kind is None:
            kind = _kinds[field] = (
                "text"
                if type(field) in _TEXT
                else "datetime"
                if type(field) is models.DateTimeField
                else "other"
            )
        if value is None and kind != "other":
            prepared.append(None)
        elif kind == "text" and type(value) is str:
            prepared.append(value)
        elif kind == "datetime" and isinstance(value, datetime) and value.tzinfo is not None:
            prepared.append(adapt(value))
        else:
            prepared.append(field.get_db_prep_save(value, connection))
    return prepared
