"""Test-only endpoints for conference and recording tests: TwiML documents set by each test, and
hooks that record what Twilio sent them. Every request must carry a valid X-Twilio-Signature."""

from django.http import HttpResponse, HttpResponseForbidden
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from telephony.webhooks import public_url, signature_is_valid

# name -> TwiML text answered by /c/doc/<name> (an empty <Response/> when unset).
DOCS: dict[str, str] = {}
# Every request received, in order: (name, fields).
HITS: list[tuple[str, dict]] = []


@csrf_exempt
def doc(request, name):
    fields = request.POST.dict() if request.method == "POST" else request.GET.dict()
    if not signature_is_valid(request, public_url(request)):  # a GET's fields are in its URL
        return HttpResponseForbidden("bad signature")
    HITS.append((name, fields))
    body = DOCS.get(name, "<Response/>")
    return HttpResponse('<?xml version="1.0" encoding="UTF-8"?>' + body, content_type="text/xml")


def redirect(request, code, target):
    """Answers HTTP ``code`` with a Location: /c/<target> (or itself, for a loop)."""
    HITS.append((f"redirect-{code}", {}))
    response = HttpResponse(status=code)
    response["Location"] = request.path if target == "loop" else f"/c/{target}"
    return response


def hits(name: str) -> list[dict]:
    return [fields for hit, fields in HITS if hit == name]


urlpatterns = [
    path("c/<str:name>", doc, name="c-doc"),
    path("r/<int:code>/<str:target>", csrf_exempt(redirect), name="c-redirect"),
]
