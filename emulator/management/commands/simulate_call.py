"""Run one call through the Twilio emulator against this app and print what the caller hears."""

import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from agents.models import Agent, AgentStatusInterval
from emulator import Caller, DjangoTransport, Emulator, HttpTransport
from emulator.server import serving_rest
from queues.models import QueueVisit
from telephony.webhooks import VIRTUAL_NOW_ENVIRON

# The transcript speaks the flow's language (the language of what the caller hears).
LABELS = {
    "ja": {
        "start": "発信: {from_} → {to}",
        "say": "音声:「{text}」",
        "play": "再生: {url}",
        "play-digits": "トーン再生: {text}",
        "pause": "（無音 {seconds} 秒）",
        "keys": "キー入力: {text}",
        "no-input": "（入力なし）",
        "enqueue": "キュー「{text}」で待機開始（{position} 番目）",
        "queue-full": "キュー「{text}」が満杯のため入れません",
        "dequeued": "{agent} が応答",
        "connected": "{text} と接続",
        "disconnected": "接続終了（通話 {seconds} 秒）",
        "queue-exit": "キュー「{text}」を退出: {result}（待ち時間 {wait} 秒）",
        "leave": "キューから外れる",
        "hangup": "アプリが通話を切断",
        "reject": "着信拒否（{text}）",
        "record": "録音 {seconds} 秒",
        "error": "エラー {code}: {text}",
        "dial": "{who} が発信: {text}",
        "dial-timeout": "{who}: キュー「{text}」に待ち呼がなく発信終了",
        "end": "通話終了: {text}（通話時間 {duration} 秒）",
        "agent-end": "{who} の通話終了: {text}",
        "request": "→ {method} {url}",
        "summary": "キュー「{queue}」: {result}、待ち {wait} 秒、通話 {talk} 秒、担当 {agent}",
    },
    "en": {
        "start": "Call: {from_} → {to}",
        "say": 'Says: "{text}"',
        "play": "Plays: {url}",
        "play-digits": "Plays tones: {text}",
        "pause": "(silence {seconds} s)",
        "keys": "Presses: {text}",
        "no-input": "(no input)",
        "enqueue": "Waits in queue {text} (position {position})",
        "queue-full": "Queue {text} is full",
        "dequeued": "{agent} takes the call",
        "connected": "Connected to {text}",
        "disconnected": "Disconnected (talked {seconds} s)",
        "queue-exit": "Leaves queue {text}: {result} (waited {wait} s)",
        "leave": "Taken out of the queue",
        "hangup": "The app hangs up",
        "reject": "Rejected ({text})",
        "record": "Recorded {seconds} s",
        "error": "Error {code}: {text}",
        "dial": "{who} dials {text}",
        "dial-timeout": "{who}: nobody waiting in queue {text}; gives up",
        "end": "Call ends: {text} (duration {duration} s)",
        "agent-end": "{who}'s call ends: {text}",
        "request": "→ {method} {url}",
        "summary": "Queue {queue}: {result}, waited {wait} s, talked {talk} s, agent {agent}",
    },
}
CALLER_KINDS = {
    "say", "play", "play-digits", "pause", "keys", "no-input", "enqueue", "queue-full",
    "dequeued", "connected", "disconnected", "queue-exit", "leave", "hangup", "reject",
    "record", "error", "end",
}  # fmt: skip
AGENT_KINDS = {"dial", "dial-timeout", "error"}


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


AGENT_STATE_FIELDS = (
    "status",
    "status_changed_at",
    "wrap_up_until",
    "current_call_sid",
    "current_visit_id",
)


def _agent_state(identity: str | None) -> dict | None:
    """What a kept simulation must leave as it was: the agent's status and its intervals."""
    agent = Agent.objects.filter(identity=identity).values("pk", *AGENT_STATE_FIELDS).first()
    if agent is None:
        return None
    intervals = AgentStatusInterval.objects.filter(agent_id=agent["pk"])
    agent["open_interval"] = (
        intervals.filter(ended_at__isnull=True).values_list("pk", flat=True).first()
    )
    agent["last_interval"] = intervals.order_by("-pk").values_list("pk", flat=True).first() or 0
    return agent


def _agent_restore(state: dict | None) -> None:
    """The emulated agent is not the real one: undo the status changes the test call made."""
    if state is None:
        return
    intervals = AgentStatusInterval.objects.filter(agent_id=state["pk"])
    intervals.filter(pk__gt=state["last_interval"]).delete()
    if state["open_interval"] is not None:
        intervals.filter(pk=state["open_interval"]).update(ended_at=None)
    Agent.objects.filter(pk=state["pk"]).update(
        **{name: state[name] for name in AGENT_STATE_FIELDS}
    )


def _mark_test_calls(emu) -> None:
    QueueVisit.objects.filter(call__sid__in=[leg.sid for leg in emu.calls]).update(
        is_test_call=True
    )


def flow_language(call) -> str:
    for entry in call.entries("say"):
        if str(entry.attrs.get("language", "")).lower().startswith("ja"):
            return "ja"
    return "en" if call.entries("say") else settings.LANGUAGE_CODE[:2]


class Command(BaseCommand):
    help = (
        "Place one call through the Twilio emulator against this app (in-process by default, "
        "or a running server with --url) and print what the caller hears, step by step."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", default="+815012345678", help="the number called")
        parser.add_argument(
            "--from", dest="from_", default="+819012345678", help="the caller's number"
        )
        parser.add_argument(
            "--digits",
            default="",
            help="keys pressed at successive prompts, comma or space separated; - = no input",
        )
        parser.add_argument("--agent", help="client identity of an agent who takes the call")
        parser.add_argument(
            "--answer-after",
            type=float,
            default=10.0,
            help="seconds the caller waits in a queue before the agent takes it (default 10)",
        )
        parser.add_argument(
            "--talk", type=float, default=60.0, help="seconds the agent talks (default 60)"
        )
        parser.add_argument(
            "--hangup-after", type=float, help="seconds after which the caller hangs up"
        )
        parser.add_argument(
            "--patience", type=float, help="seconds the caller waits in a queue at most"
        )
        parser.add_argument(
            "--url", help="base URL of a running server on this machine, e.g. http://127.0.0.1:8000"
        )
        parser.add_argument(
            "--auth-token", help="auth token the running server checks (default: settings)"
        )
        parser.add_argument(
            "--voice-url", default="/twilio/voice/incoming", help="the number's Voice URL"
        )
        parser.add_argument(
            "--max-seconds",
            type=float,
            default=3600.0,
            help="stop the simulation after this many virtual seconds (default 3600)",
        )
        parser.add_argument(
            "--requests", action="store_true", help="also print every request the call made"
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="store the call, marked as a test call that reports leave out "
            "(default: save nothing)",
        )

    def handle(self, *args, **options):
        account_sid = settings.TWILIO_ACCOUNT_SID or "AC" + secrets.token_hex(16)
        if options["url"]:
            token = options["auth_token"] or settings.TWILIO_AUTH_TOKEN
            if not token:
                raise CommandError("give --auth-token: the server checks every signature")
            try:
                transport = HttpTransport(options["url"])
            except ValueError as error:
                raise CommandError(str(error)) from None
            return self._over_http(transport, account_sid, token, options)
        if (
            options["agent"]
            and not Agent.objects.filter(identity=options["agent"], is_active=True).exists()
        ):
            raise CommandError(
                f"no active agent has the client identity {options['agent']!r}: "
                "give the identity of an agent of this installation"
            )
        # In-process against this project: a throwaway token when none is configured, and the
        # app's REST calls served by the emulator rather than api.twilio.com.
        token = settings.TWILIO_AUTH_TOKEN or secrets.token_hex(16)
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        emu = None
        # Each request carries its virtual time: the app records the call as the emulator lives it.
        transport = DjangoTransport(
            per_request=lambda: {VIRTUAL_NOW_ENVIRON: emu.datetime_at()} if emu else {}
        )
        with override_settings(
            TWILIO_AUTH_TOKEN=token, TWILIO_ACCOUNT_SID=account_sid, ALLOWED_HOSTS=hosts
        ):
            emu = self._emulator(transport, account_sid, token, options)
            with transaction.atomic():
                agent_before = _agent_state(options["agent"])
                call, cut = self._run(emu, options, hang_up_at_the_end=False)
                if options["keep"] and not cut:
                    _mark_test_calls(emu)
                    _agent_restore(agent_before)
                else:
                    transaction.set_rollback(True)
        self._print(emu, call, options)
        self._conclude(call, cut, options)

    def _over_http(self, transport, account_sid, token, options):
        emu = self._emulator(transport, account_sid, token, options)
        # The server stores what it is told; the call must end there, and it is marked as a
        # test call when the server shares this installation's database.
        call, cut = self._run(emu, options, hang_up_at_the_end=True)
        _mark_test_calls(emu)
        self._print(emu, call, options)
        if cut:
            raise CommandError(
                f"stopped after {options['max_seconds']:g} virtual seconds: the simulation "
                "hung up a call that was still going (stored on the server as a test call)"
            )
        self._conclude(call, cut, options)

    def _emulator(self, transport, account_sid, token, options):
        emu = Emulator(
            transport=transport,
            account_sid=account_sid,
            auth_token=token,
            start=datetime.now(UTC).replace(microsecond=0),
        )
        emu.add_number(
            options["to"],
            voice_url=options["voice_url"],
            status_callback="/twilio/voice/status",
            fallback_url="/twilio/voice/fallback",
        )
        emu.configure_client_app(
            voice_url="/twilio/agent/outgoing", status_callback="/twilio/voice/status"
        )
        if options["agent"]:
            emu.add_agent(
                options["agent"],
                answer_after=options["answer_after"],
                talk_seconds=options["talk"],
                takes_queues="*",
            )
        return emu

    def _run(self, emu, options, *, hang_up_at_the_end):
        """Run the call up to --max-seconds: (the caller's leg, whether it was still going)."""
        caller = Caller(
            digits=options["digits"],
            patience=options["patience"],
            hangup_after=options["hangup_after"],
        )
        call = emu.place_call(to=options["to"], from_=options["from_"], caller=caller)
        # The app's REST calls (TWILIO_API_URL) reach this emulator, not api.twilio.com.
        with serving_rest(emu) as rest_url, override_settings(TWILIO_API_URL=rest_url):
            emu.run(until=options["max_seconds"])
            cut = not call.ended
            if hang_up_at_the_end:
                emu.hangup_all("caller")
                emu.run(until=emu.now + 3600)
        return call, cut

    def _conclude(self, call, cut, options):
        if cut:
            where = f" (waiting in queue {call.member.visit.queue})" if call.member else ""
            raise CommandError(
                f"stopped after {options['max_seconds']:g} virtual seconds: the call was still "
                f"going{where}; the simulation stopped it and saved nothing"
            )
        if call.status != "completed":
            raise CommandError(f"the call did not complete: {call.status}")
        if options["keep"]:
            self.stderr.write("Kept as a test call: reports leave it out.")
        elif not options["url"]:
            self.stderr.write("Nothing saved (give --keep to store the call as a test call).")

    def _print(self, emu, call, options):
        labels = LABELS.get(flow_language(call), LABELS["en"])
        write = self.stdout.write
        write(f"[{_clock(0)}] " + labels["start"].format(from_=call.from_, to=call.to))
        lines = []
        for leg in emu.calls:
            mine = leg is call
            kinds = CALLER_KINDS if mine else AGENT_KINDS | {"end"}
            who = leg.from_.removeprefix("client:")
            for entry in leg.transcript:
                if entry.kind == "request" and options["requests"] and mine:
                    text = labels["request"].format(method=entry.attrs["method"], url=entry.url)
                elif entry.kind in kinds:
                    text = self._describe(labels, entry, who, mine, leg)
                else:
                    continue
                lines.append((entry.at, entry.seq, text, mine))
        for at, _, text, mine in sorted(lines):
            line = f"[{_clock(at)}] {'' if mine else '    '}{text}"
            write(line if mine else self.style.HTTP_INFO(line))
        for visit in emu.ground_truth():
            if visit["call_sid"] == call.sid:
                write(
                    "  "
                    + labels["summary"].format(
                        queue=visit["queue"],
                        result=visit["result"],
                        wait=visit["wait_seconds"] if visit["wait_seconds"] is not None else "-",
                        talk=visit["talk_seconds"] if visit["talk_seconds"] is not None else "-",
                        agent=visit["agent"] or "-",
                    )
                )

    @staticmethod
    def _describe(labels, entry, who, mine, leg) -> str:
        attrs = entry.attrs
        if entry.kind == "end":
            key = "end" if mine else "agent-end"
            return labels[key].format(text=entry.text, duration=leg.duration, who=who)
        values = {
            "text": entry.text,
            "url": entry.url,
            "who": who,
            "seconds": attrs.get("seconds", ""),
            "position": attrs.get("position", ""),
            "agent": attrs.get("agent", ""),
            "result": attrs.get("result", ""),
            "wait": attrs.get("wait", ""),
            "code": attrs.get("code", ""),
        }
        return labels[entry.kind].format(**values)
