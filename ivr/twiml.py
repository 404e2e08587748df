"""TwiML of a flow: renders steps from a FlowSnapshot, chaining steps the caller does not answer
(say → queue, hours → menu) into one document, and notes the path the call takes."""

from datetime import datetime
from urllib.parse import urlencode

from django.urls import reverse
from twilio.twiml.voice_response import VoiceResponse

from queues import twiml as queue_twiml
from queues.models import Queue
from telephony import configcache

from .models import CallPathEntry, Step
from .selectors import FlowSnapshot, StepSnapshot, queue_slug
from .services import PathMark

Outcome = CallPathEntry.Outcome
Kind = Step.Kind

# A document chains at most this many steps; a loop of steps that never waits for the caller
# ends the call instead of spinning (the admin warns about such loops).
MAX_CHAIN = 25


class FlowRenderer:
    """Builds one TwiML document for one request within one flow."""

    def __init__(self, *, request, flow: FlowSnapshot, now: datetime):
        self.request = request
        self.flow = flow
        self.now = now
        self.response = VoiceResponse()
        self.marks: list[PathMark] = []
        self._chained: set[int] = set()
        # Whether the document depends on nothing but the flow, the request's origin and the
        # caller's input: False once a step read the clock (business hours).
        self.timeless = True

    # --- helpers -------------------------------------------------------------------------------
    def url(self, name: str, step: StepSnapshot | None = None, **query) -> str:
        kwargs = {"flow_id": self.flow.id}
        if step is not None:
            kwargs["step_id"] = step.id
        url = self.request.build_absolute_uri(reverse(f"ivr:{name}", kwargs=kwargs))
        return f"{url}?{urlencode(query)}" if query else url

    def speak(self, target, text: str, audio_url: str = "") -> None:
        if audio_url:
            target.play(audio_url)
        elif text:
            target.say(text, **self.flow.say_attrs())

    def mark(self, step: StepSnapshot, outcome: str, digits: str = "") -> None:
        self.marks.append(
            PathMark(
                flow_id=self.flow.id,
                step_id=step.id,
                step_name=step.name,
                kind=step.kind,
                outcome=outcome,
                digits=digits,
            )
        )

    def _continue_to(self, step_id: int | None) -> StepSnapshot | None:
        step = self.flow.step(step_id)
        if step is None:
            self.response.hangup()
        return step

    # --- entry points --------------------------------------------------------------------------
    def run(self, step_id: int | None) -> VoiceResponse:
        """Render ``step_id`` and every step it leads to without the caller's input."""
        step = self._continue_to(step_id)
        while step is not None:
            if step.id in self._chained or len(self._chained) >= MAX_CHAIN:
                self.response.hangup()
                break
            self._chained.add(step.id)
            self.mark(step, Outcome.ENTERED)
            step = getattr(self, f"_render_{step.kind}")(step)
        return self.response

    def menu_answer(self, step: StepSnapshot, digits: str, attempt: int) -> VoiceResponse:
        """The Gather action: a valid key leads on; an invalid one repeats the menu."""
        if not digits:
            return self.menu_silence(step, attempt)
        target = step.options.get(digits)
        if target is not None and target in self.flow.steps:
            self.mark(step, Outcome.VALID, digits)
            return self.run(target)
        self.mark(step, Outcome.INVALID, digits)
        if attempt >= step.max_retries:
            return self.run(step.no_input_id)
        self.menu(step, attempt=attempt + 1, message=step.invalid_message)
        return self.response

    def menu_silence(self, step: StepSnapshot, attempt: int) -> VoiceResponse:
        """After the Gather fell through: the no-input message was said; go where silence
        leads, or repeat the menu."""
        self.mark(step, Outcome.NO_INPUT)
        if step.no_input_id is not None:
            return self.run(step.no_input_id)
        if attempt >= step.max_retries:
            self.response.hangup()
            return self.response
        self.menu(step, attempt=attempt + 1)
        return self.response

    def menu(self, step: StepSnapshot, *, attempt: int = 0, message: str = "") -> None:
        """<Gather> with the prompt inside, then the no-input path: Twilio falls through to the
        next verb when the caller presses nothing."""
        gather_attrs = {
            "num_digits": step.num_digits,
            "timeout": step.timeout,
            "action": self.url("gather", step, attempt=attempt),
            "method": "POST",
        }
        if any("#" in key for key in step.options):
            gather_attrs["finish_on_key"] = ""  # '#' is an option here, not a terminator
        gather = self.response.gather(**gather_attrs)
        if message:
            gather.say(message, **self.flow.say_attrs())
        if not message or step.repeat_prompt:
            self.speak(gather, step.text, step.audio_url)
        self.speak(self.response, step.no_input_message)
        self.response.redirect(self.url("no-input", step, attempt=attempt), method="POST")

    # --- one method per step kind: return the step to chain into, or None when done ----------
    def _render_say(self, step: StepSnapshot) -> StepSnapshot | None:
        self.speak(self.response, step.text, step.audio_url)
        return self._continue_to(step.next_id)

    def _render_menu(self, step: StepSnapshot) -> None:
        self.menu(step)

    def _render_queue(self, step: StepSnapshot) -> StepSnapshot | None:
        slug = queue_slug(step.queue_id, configcache.request_config_token(self.request))
        if slug is None:
            return self._continue_to(step.next_id)
        queue = Queue(pk=step.queue_id, slug=slug)
        queue_twiml.add_enqueue(
            self.response,
            request=self.request,
            queue=queue,
            action_url=self.url("queue-exit", step),
            caller_priority=step.caller_priority,
        )
        return None

    def _render_hours(self, step: StepSnapshot) -> StepSnapshot | None:
        self.timeless = False
        is_open = step.schedule is not None and step.schedule.is_open(self.now)
        return self._continue_to(step.open_id if is_open else step.closed_id)

    def _render_voicemail(self, step: StepSnapshot) -> None:
        self.speak(self.response, step.text, step.audio_url)
        self.response.record(
            action=self.url("voicemail", step),
            method="POST",
            max_length=step.max_length,
            play_beep=True,
            finish_on_key="#",
        )
        # Nothing recorded: Twilio skips the action and falls through to the next verb.
        self.response.redirect(self.url("voicemail", step), method="POST")

    def _render_dial(self, step: StepSnapshot) -> None:
        dial = self.response.dial(
            action=self.url("dial-action", step), method="POST", timeout=step.timeout
        )
        # A leg the app creates reports its end to the status callback (docs/api.md §1).
        dial.number(
            step.dial_number,
            status_callback=self.request.build_absolute_uri(reverse("telephony:voice-status")),
            status_callback_method="POST",
        )

    def _render_goto(self, step: StepSnapshot) -> None:
        if step.goto_flow_id is None:
            self.response.hangup()
            return
        url = self.request.build_absolute_uri(
            reverse("ivr:start", kwargs={"flow_id": step.goto_flow_id})
        )
        self.response.redirect(url, method="POST")

    def _render_hangup(self, step: StepSnapshot) -> None:
        self.speak(self.response, step.text, step.audio_url)
        self.response.hangup()
