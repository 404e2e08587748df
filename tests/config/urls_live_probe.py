from django.contrib.auth.models import User
from django.http import HttpResponse
from django.urls import path


def count_probe_users(request):
    return HttpResponse(str(User.objects.filter(username__startswith="probe-").count()))


urlpatterns = [path("probe", count_probe_users)]
