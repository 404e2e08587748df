"""Checks of the flow admin's steps that need the other rows of the flow: what leads to a step."""

from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from .models import STEP_TARGET_FIELDS, MenuOption, Step


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
        for name, forms in seen.items():
            if len(forms) > 1:
                for form in forms:
                    form.add_error(
                        "name",
                        _("Another step of this flow is also named “%(name)s”.") % {"name": name},
                    )
        super().validate_unique()

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
