"""Listen, whisper and barge, through the local Twilio in process: a supervisor's softphone is
rung into agent1's live conference, and the emulator says who hears whom — listen: the
supervisor hears both, nobody hears them; whisper: only the agent hears them; barge:
everyone. The mode switches during the call; leaving (or hanging up) leaves the call going;
the supervisor's leg never ends the call, is not the agent's talk, and routing does not offer
the supervisor callers meanwhile. Each session is a Monitoring row with its modes."""

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus
from routing.models import Bridge, BridgeParticipant, Monitoring, MonitoringMode
from routing.services import eligible_agents
from routing.supervision import (
    SupervisionError,
    monitoring_change_mode,
    monitoring_end,
    monitoring_start,
)

from . import test_end_to_end
from .test_end_to_end import run
from .test_hold import _connected_call

pytestmark = pytest.mark.django_db

emu = test_end_to_end.emu  # the local Twilio in process, its virtual clock


def _hears(conference, sid):
    [row] = [p for p in conference.state()["participants"] if p["call_sid"] == sid]
    return set(row["hears"])


def _make_agent(user, identity):
    from django.contrib.auth.models import Group

    from agents.roles import AGENTS

    user.groups.add(Group.objects.get(name=AGENTS))
    user.__dict__.pop("_tsunagu_roles", None)
    return Agent.objects.create(user=user, identity=identity)


@pytest.fixture
def sup_phone(supervisor):
    """The supervisor's own softphone (an agent profile), registered and available."""
    _make_agent(supervisor, "sup1")
    return test_end_to_end.ready("sup1")


def _monitoring(emu, supervisor, mode):
    emu.add_agent("sup1", answer_after=1, talk_seconds=None)
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    now = emu.datetime_at()
    monitoring = monitoring_start(supervisor=supervisor, agent=agent, mode=mode, now=now)
    run(emu, 3)
    monitoring.refresh_from_db()
    return agent, leg, bridge, conference, monitoring


def test_listening_hears_both_and_nobody_hears_the_supervisor(emu, supervisor, sup_phone):
    agent, leg, bridge, conference, monitoring = _monitoring(emu, supervisor, "listen")
    agent_sid, sup_sid = bridge.offer.agent_call_sid, monitoring.call_sid

    assert _hears(conference, sup_sid) == {leg.sid, agent_sid}
    assert sup_sid not in _hears(conference, leg.sid)
    assert sup_sid not in _hears(conference, agent_sid)
    assert _hears(conference, leg.sid) == {agent_sid}
    assert monitoring.answered_at is not None and monitoring.ended_at is None


def test_whispering_is_heard_by_the_agent_only(emu, supervisor, sup_phone):
    agent, leg, bridge, conference, monitoring = _monitoring(emu, supervisor, "whisper")
    agent_sid, sup_sid = bridge.offer.agent_call_sid, monitoring.call_sid

    assert sup_sid in _hears(conference, agent_sid)
    assert sup_sid not in _hears(conference, leg.sid)
    assert _hears(conference, sup_sid) == {leg.sid, agent_sid}


def test_barging_in_is_heard_by_everyone(emu, supervisor, sup_phone):
    agent, leg, bridge, conference, monitoring = _monitoring(emu, supervisor, "barge")
    agent_sid, sup_sid = bridge.offer.agent_call_sid, monitoring.call_sid

    assert _hears(conference, leg.sid) == {agent_sid, sup_sid}
    assert _hears(conference, agent_sid) == {leg.sid, sup_sid}
    assert _hears(conference, sup_sid) == {leg.sid, agent_sid}


def test_switching_modes_changes_who_hears_the_supervisor(emu, supervisor, sup_phone):
    agent, leg, bridge, conference, monitoring = _monitoring(emu, supervisor, "listen")
    agent_sid, sup_sid = bridge.offer.agent_call_sid, monitoring.call_sid

    monitoring_change_mode(monitoring=monitoring, mode="whisper", now=emu.datetime_at())
    run(emu, 1)
    assert sup_sid in _hears(conference, agent_sid)
    assert sup_sid not in _hears(conference, leg.sid)

    monitoring_change_mode(monitoring=monitoring, mode="barge", now=emu.datetime_at())
    run(emu, 1)
    assert sup_sid in _hears(conference, leg.sid) and sup_sid in _hears(conference, agent_sid)

    monitoring_change_mode(monitoring=monitoring, mode="listen", now=emu.datetime_at())
    run(emu, 1)
    assert sup_sid not in _hears(conference, leg.sid) | _hears(conference, agent_sid)

    monitoring.refresh_from_db()
    assert monitoring.mode == MonitoringMode.LISTEN
    assert [c["mode"] for c in monitoring.mode_changes] == ["listen", "whisper", "barge", "listen"]


def test_leaving_keeps_the_caller_and_agent_talking(emu, supervisor, sup_phone):
    agent, leg, bridge, conference, monitoring = _monitoring(emu, supervisor, "barge")
    agent_sid = bridge.offer.agent_call_sid

    monitoring_end(monitoring=monitoring, now=emu.datetime_at())
    run(emu, 5)

    assert _hears(conference, leg.sid) == {agent_sid}
    assert conference.status == "in-progress"
    assert emu.call_by_sid(monitoring.call_sid).status == "completed"
    assert Bridge.objects.get(pk=bridge.pk).ended_at is None
    assert Agent.objects.get(pk=agent.pk).status == AgentStatus.ON_CALL
    monitoring.refresh_from_db()
    assert monitoring.ended_at is not None


def test_the_supervisor_hanging_up_leaves_the_call_intact(emu, supervisor, sup_phone):
    agent, leg, bridge, conference, monitoring = _monitoring(emu, supervisor, "listen")

    emu.hangup(emu.call_by_sid(monitoring.call_sid), by="agent")
    run(emu, 5)

    assert conference.status == "in-progress"
    assert leg.status == "in-progress"
    assert Bridge.objects.get(pk=bridge.pk).ended_at is None
    assert Monitoring.objects.get().ended_at is not None
    assert Agent.objects.get(pk=sup_phone.pk).status == AgentStatus.AVAILABLE


def test_the_supervisor_is_neither_a_participant_nor_offered_calls_while_listening(
    emu, supervisor, sup_phone
):
    agent, leg, bridge, conference, monitoring = _monitoring(emu, supervisor, "listen")

    assert not BridgeParticipant.objects.filter(call_sid=monitoring.call_sid).exists()
    assert Agent.objects.get(pk=sup_phone.pk).status == AgentStatus.AVAILABLE
    assert not eligible_agents(now=timezone.now()).filter(pk=sup_phone.pk).exists()
    monitoring_end(monitoring=monitoring, now=emu.datetime_at())
    assert eligible_agents(now=timezone.now()).filter(pk=sup_phone.pk).exists()


def test_the_call_ending_ends_the_monitoring_and_counts_no_supervisor_talk(
    emu, supervisor, sup_phone
):
    agent, leg, bridge, conference, monitoring = _monitoring(emu, supervisor, "barge")
    run(emu, 10)

    emu.hangup(leg)
    run(emu, 5)

    assert Monitoring.objects.get().ended_at is not None
    assert emu.call_by_sid(monitoring.call_sid).status == "completed"
    sup = Agent.objects.get(pk=sup_phone.pk)
    assert sup.status == AgentStatus.AVAILABLE and sup.last_call_ended_at is None


def test_a_supervisor_without_a_softphone_is_told_why(emu, supervisor):
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    with pytest.raises(SupervisionError, match="softphone"):
        monitoring_start(supervisor=supervisor, agent=agent, mode="listen", now=emu.datetime_at())
    assert not Monitoring.objects.exists()


def test_an_agent_cannot_monitor(emu, agent_user):
    _make_agent(agent_user, "agt1")
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    with pytest.raises(SupervisionError):
        monitoring_start(supervisor=agent_user, agent=agent, mode="listen", now=emu.datetime_at())


def test_the_team_view_buttons_start_switch_and_leave(emu, client, supervisor, sup_phone):
    emu.add_agent("sup1", answer_after=1, talk_seconds=None)
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    client.force_login(supervisor)

    started = client.post(f"/supervisor/monitor/{agent.pk}", {"mode": "listen"})
    assert started.status_code == 200, started.content
    assert started.json()["monitoring"]["mode"] == "listen"
    run(emu, 3)
    sup_sid = Monitoring.objects.get().call_sid
    assert sup_sid not in _hears(conference, leg.sid)
    assert client.get("/supervisor/team/live").json()["monitoring"]["mode"] == "listen"

    assert client.post("/supervisor/monitor/mode", {"mode": "barge"}).status_code == 200
    run(emu, 1)
    assert sup_sid in _hears(conference, leg.sid)

    assert client.post("/supervisor/monitor/leave").json() == {"monitoring": None}
    run(emu, 3)
    assert conference.status == "in-progress"
    assert Monitoring.objects.get().ended_at is not None


def test_a_second_session_at_once_is_refused(emu, client, supervisor, sup_phone):
    emu.add_agent("sup1", answer_after=1, talk_seconds=None)
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    client.force_login(supervisor)
    assert client.post(f"/supervisor/monitor/{agent.pk}", {"mode": "listen"}).status_code == 200

    again = client.post(f"/supervisor/monitor/{agent.pk}", {"mode": "barge"})

    assert again.status_code == 409 and again.json()["error"]
    assert Monitoring.objects.count() == 1


def test_monitoring_an_agent_not_on_a_call_is_explained(client, supervisor, sup_phone, demo):
    client.force_login(supervisor)
    agent1 = Agent.objects.get(identity="agent1")
    response = client.post(f"/supervisor/monitor/{agent1.pk}", {"mode": "listen"})
    assert response.status_code == 409 and response.json()["error"]


@pytest.mark.parametrize(
    "url", ["/supervisor/monitor/1", "/supervisor/monitor/mode", "/supervisor/monitor/leave"]
)
def test_agents_and_analysts_may_not_monitor(client, agent_user, analyst, url):
    for user in (agent_user, analyst):
        client.force_login(user)
        assert client.post(url, {"mode": "listen"}).status_code == 403


def test_monitoring_posts_need_the_csrf_token(supervisor, sup_phone):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(supervisor)
    assert strict.post("/supervisor/monitor/leave").status_code == 403
    assert strict.get("/supervisor/monitor/leave").status_code == 405


def test_the_team_page_offers_the_buttons_or_explains_the_missing_softphone(
    emu, client, supervisor, django_user_model
):
    agent, leg, bridge, conference = _connected_call(emu, talk_seconds=None)
    client.force_login(supervisor)
    body = client.get("/supervisor/team/").content.decode()
    assert 'id="team-no-softphone"' in body
    assert f'data-monitor="{agent.pk}"' not in body

    _make_agent(supervisor, "sup1")
    body = client.get("/supervisor/team/").content.decode()
    assert 'id="team-no-softphone"' not in body
    assert f'data-monitor="{agent.pk}" data-mode="whisper"' in body
