"""The flow admin's forms: flow numbers written any usual way, targets that name a step added
in the same save ("new:<name>"), and the checks that need the other rows of the flow (what leads
to a step)."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telephony.phone import PhoneNumberFormField

from .models import KIND_FIELDS, STEP_TARGET_FIELDS, Flow, MenuOption, PhoneNumber, Step

# A target select's value for a step that is added in the same save: "new:<its name>".
NEW_STEP_PREFIX = "new:"
NUMBER_HELP = gettext_lazy("As you would dial it (050-1234-5678) or in E.164 (+815012345678).")


class NewStep:
    """A target chosen by the name of a step not stored yet; resolved once the steps are."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"NewStep({self.name!r})"


class StepTargetField(forms.ModelChoiceField):
    """A step of the flow by id, or a step added in the same save by ``new:<name>``."""

    def to_python(self, value):
        if isinstance(value, str) and value.startswith(NEW_STEP_PREFIX):
            name = value[len(NEW_STEP_PREFIX) :].strip()
            if not name:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
            return NewStep(name)
        return super().to_python(value)


def new_step_choice(name: str) -> tuple[str, str]:
    return NEW_STEP_PREFIX + name, _("%(name)s (new)") % {"name": name}


def submitted_steps(data, prefix="steps") -> dict[str, dict]:
    """The steps a submission of the flow page keeps, by name: {name: {"kind", "num_digits",
    "new"}} (rows marked for deletion left out)."""
    steps = {}
    try:
        total = int(data.get(f"{prefix}-TOTAL_FORMS", 0))
    except (TypeError, ValueError):
        return steps
    for i in range(min(total, 1000)):
        name = str(data.get(f"{prefix}-{i}-name", "")).strip()
        if not name or data.get(f"{prefix}-{i}-DELETE"):
            continue
        try:
            digits = int(data.get(f"{prefix}-{i}-num_digits") or 1)
        except (TypeError, ValueError):
            digits = 1
        steps[name] = {
            "kind": data.get(f"{prefix}-{i}-kind", ""),
            "num_digits": digits,
            "new": not str(data.get(f"{prefix}-{i}-id", "")).strip(),
        }
    return steps


class PendingTargetsForm(forms.ModelForm):
    """Takes targets named ``new:<name>`` out of the model's values into ``pending``, to be
    set once the named steps are stored (see FlowAdmin.save_formset). Target fields are
    required by ``required_targets`` here, not by the model form (a pending target is empty
    until then)."""

    required_targets: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pending: dict[str, str] = {}
        for name in self.required_targets:
            if name in self.fields:
                self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        self.pending = {}
        for name, value in list(cleaned.items()):
            if isinstance(value, NewStep):
                self.pending[name] = value.name
                cleaned[name] = None
        for name in self.required_targets:
            missing = cleaned.get(name) is None and name not in self.pending
            if name in self.fields and missing and name not in self.errors:
                self.add_error(name, self.fields[name].error_messages["required"])
        return cleaned

    def check_pending(self, steps: dict[str, dict]) -> None:
        """Each pending target names a step this save keeps."""
        for field, name in self.pending.items():
            if name not in steps:
                self.add_error(
                    field, _("No step of this flow is named “%(name)s”.") % {"name": name}
                )


class StepForm(PendingTargetsForm):
    dial_number = PhoneNumberFormField(
        label=Step._meta.get_field("dial_number").verbose_name,
        required=False,
        help_text=NUMBER_HELP,
    )

    class Meta:
        model = Step
        fields = ["name", "dial_number"]  # the admin names the others

    def clean(self):
        cleaned = super().clean()
        # A target the step's kind does not use (a hidden field left from another kind) is
        # not waited for, and not checked.
        used = KIND_FIELDS.get(cleaned.get("kind"), ())
        self.pending = {f: name for f, name in self.pending.items() if f in used}
        return cleaned


class MenuOptionForm(PendingTargetsForm):
    required_targets = ("step", "target")

    class Meta:
        model = MenuOption
        fields = ["step", "key", "target"]


class FlowForm(PendingTargetsForm):
    class Meta:
        model = Flow
        fields = ["name", "language", "voice", "start_step"]

    def clean(self):
        cleaned = super().clean()
        self.check_pending(submitted_steps(self.data))
        return cleaned


class PhoneNumberForm(forms.ModelForm):
    number = PhoneNumberFormField(
        label=PhoneNumber._meta.get_field("number").verbose_name, help_text=NUMBER_HELP
    )

    class Meta:
        model = PhoneNumber
        fields = ["number", "name", "flow", "twilio_sid"]


def _submitted_option_changes(data, prefix="options"):
    """Ids of the stored menu options this submission deletes or moves to another menu:
    {option id: the menu it now belongs to, or None when deleted}."""
    changes = {}
    try:
        total = int(data.get(f"{prefix}-INITIAL_FORMS", 0))
    except (TypeError, ValueError):
        return changes
    for i in range(total):
        option_id = data.get(f"{prefix}-{i}-id", "")
        if not str(option_id).isdigit():
            continue
        if data.get(f"{prefix}-{i}-DELETE"):
            changes[int(option_id)] = None
        elif str(data.get(f"{prefix}-{i}-step", "")).isdigit():
            changes[int(option_id)] = int(data[f"{prefix}-{i}-step"])
    return changes


def _step_references(step: Step, flow) -> list[str]:
    """What leads to ``step`` as stored: menu keys, other steps' targets, the flow's start."""
    found = [
        _("key %(key)s of %(menu)s") % {"key": option.key, "menu": option.step.name}
        for option in MenuOption.objects.filter(target=step)
        .exclude(step=step)
        .select_related("step")
        .order_by("step__name", "key")
    ]
    labels = {name: Step._meta.get_field(name).verbose_name for name in STEP_TARGET_FIELDS}
    for other in Step.objects.filter(flow_id=step.flow_id).exclude(pk=step.pk).order_by("name"):
        for name in STEP_TARGET_FIELDS:
            if getattr(other, f"{name}_id") == step.pk:
                found.append(
                    _("step %(step)s (%(field)s)") % {"step": other.name, "field": labels[name]}
                )
    if flow is not None and flow.pk and flow.start_step_id == step.pk:
        found.append(_("the flow's start step"))
    return found


class StepFormSet(BaseInlineFormSet):
    """A step is deleted only when nothing leads to it any more, and a menu changes kind only
    when it has no keys left: otherwise the flow would lose paths without a word."""

    def clean(self):
        # Before the model formset's checks: the admin's own check of a deleted form speaks of
        # "protected related objects" without saying how they lead here.
        option_changes = _submitted_option_changes(self.data)
        refused = False
        for form in self.forms:
            step = form.instance
            if step.pk is None or not hasattr(form, "cleaned_data"):
                continue
            if self.can_delete and self._should_delete_form(form):
                refused = self._refuse_delete_if_referenced(form, step) or refused
            elif form.initial.get("kind") == Step.Kind.MENU:
                self._refuse_kind_change_with_keys(form, step, option_changes)
        if refused:
            # The formset does not validate a form marked for deletion: refuse the save here.
            raise ValidationError(
                _("A step that others lead to was not deleted; see the message at that step.")
            )
        super().clean()

    def validate_unique(self):
        # The model formset would report a repeated name once, above all the steps, as "the
        # duplicate data for name": say it at each step that repeats the name instead.
        deleted = set(self.deleted_forms) if self.can_delete else set()
        seen = {}
        for form in self.forms:
            if form in deleted or not hasattr(form, "cleaned_data"):
                continue
            name = form.cleaned_data.get("name")
            if name:
                seen.setdefault(name, []).append(form)
        self._check_pending_targets(seen, deleted)
        for name, named in seen.items():
            if len(named) > 1:
                for form in named:
                    form.add_error(
                        "name",
                        _("Another step of this flow is also named “%(name)s”.") % {"name": name},
                    )
        super().validate_unique()

    def _check_pending_targets(self, seen, deleted):
        """Targets named ``new:<name>`` must name a step of this save, and not the step itself
        (a menu may repeat itself on silence)."""
        for form in self.forms:
            if form in deleted or not hasattr(form, "cleaned_data"):
                continue
            form.check_pending(seen)
            own = form.cleaned_data.get("name")
            menu = form.cleaned_data.get("kind") == Step.Kind.MENU
            for field, name in form.pending.items():
                if name == own and not menu and field not in form.errors:
                    form.add_error(field, _("A step cannot lead to itself."))

    def _refuse_delete_if_referenced(self, form, step):
        references = _step_references(step, self.instance)
        if references:
            form.add_error(
                None,
                _(
                    "%(step)s cannot be deleted: %(references)s lead(s) to it. Point them at "
                    "another step (or delete them) and save, then delete this step."
                )
                % {"step": step.name, "references": get_text_list(references, _("and"))},
            )
            return True
        return False

    def _refuse_kind_change_with_keys(self, form, step, option_changes):
        kind = form.cleaned_data.get("kind")
        if not kind or kind == Step.Kind.MENU:
            return
        keys = [
            option.key
            for option in MenuOption.objects.filter(step=step).order_by("key")
            if option_changes.get(option.pk, step.pk) == step.pk
        ]
        if keys:
            form.add_error(
                "kind",
                _(
                    "This menu still has keys (%(keys)s). Delete its menu options or move them "
                    "to another menu before changing the kind."
                )
                % {"keys": ", ".join(keys)},
            )


class MenuOptionFormSet(BaseInlineFormSet):
    """Menu options may belong to, and lead to, steps added in the same save: checked against
    the steps the submission keeps (kind, digits expected, keys used once per menu)."""

    def clean(self):
        super().clean()
        steps = submitted_steps(self.data)
        deleted = set(self.deleted_forms) if self.can_delete else set()
        keys = {}
        for form in self.forms:
            if form in deleted or not hasattr(form, "cleaned_data") or not form.has_changed():
                continue
            pending = getattr(form, "pending", {})
            form.check_pending(steps)
            menu = pending.get("step")
            if menu in steps:
                if steps[menu]["kind"] != Step.Kind.MENU:
                    form.add_error("step", _("Options belong to menu steps."))
                    continue
                key = form.cleaned_data.get("key") or ""
                if key and len(key) != steps[menu]["num_digits"]:
                    form.add_error(
                        "key",
                        _("The menu expects %(count)d key(s); this option has %(length)d.")
                        % {"count": steps[menu]["num_digits"], "length": len(key)},
                    )
                elif key:
                    keys.setdefault((menu, key), []).append(form)
        for (menu, key), forms_ in keys.items():
            if len(forms_) > 1:
                for form in forms_:
                    form.add_error(
                        "key",
                        _("Key %(key)s is used twice in %(menu)s.") % {"key": key, "menu": menu},
                    )
