"""A caller's turn in push routing: the priority their flow gave them, raised for VIP customers."""

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Value, When
from django.db.models.functions import Greatest

from agents.models import Customer

VIP_PRIORITY = 5


def effective_priority(from_number: str) -> Case:
    """``caller_priority`` of the row, raised to at least VIP_PRIORITY when the caller's number
    (``from_number``: its path from the row, e.g. ``call__from_number``) is a VIP customer's."""
    vip = Customer.objects.filter(phone_number=OuterRef(from_number), is_vip=True)
    return Case(
        When(Exists(vip), then=Greatest(F("caller_priority"), Value(VIP_PRIORITY))),
        default=F("caller_priority"),
        output_field=IntegerField(),
    )
