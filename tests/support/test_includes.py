"""The shared template pieces: the GOV.UK radios fieldset and the error summary."""

from django import forms
from django.template import Context, Template


class Choice(forms.Form):
    reason = forms.ChoiceField(choices=[("debt", "Debt"), ("other", "Other")], widget=forms.RadioSelect)
    other = forms.CharField(required=False, label="Say what")

    def clean_other(self):
        if len(self.cleaned_data["other"]) > 2:
            raise forms.ValidationError("Too long")
        return self.cleaned_data["other"]

    def clean(self):
        raise forms.ValidationError("Something about the whole form")


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_it_renders_radios_with_their_error_linked_and_a_conditional_field():
    form = Choice(data={})
    form.is_valid()
    html = _render(
        '{% include "includes/radios.html" with field=form.reason small=True conditional_value="other" '
        'conditional_field=form.other conditional_id="cond-other" %}',
        form=form,
    )
    assert "govuk-form-group--error" in html
    assert 'aria-describedby="id_reason_error"' in html
    assert '<p id="id_reason_error" class="govuk-error-message">' in html
    assert "govuk-radios govuk-radios--small" in html
    assert 'id="cond-other"' in html
    assert "govuk-radios__conditional--hidden" in html  # "other" is not chosen
    assert html.count('class="govuk-radios__item"') == 2


def test_it_summarises_a_forms_errors_each_linked_to_its_field():
    form = Choice(data={"other": "xxx"})
    form.is_valid()
    html = _render('{% include "includes/error_summary.html" with nonfield_href="#id_reason" %}', form=form)
    assert '<a href="#id_reason_0">This field is required.</a>' in html  # radios: the first one
    assert '<a href="#id_other">Too long</a>' in html
    assert '<a href="#id_reason">Something about the whole form</a>' in html


SUMMARY = '{% include "includes/error_summary.html" with '


def test_it_summarises_one_message_and_nothing_without_one():
    assert "There is a problem" not in _render(SUMMARY + 'message="" only %}')
    linked = _render(SUMMARY + 'message="Bad code" href="#id_code" only %}')
    assert '<li><a href="#id_code">Bad code</a></li>' in linked
    titled = _render(SUMMARY + 'title="Nothing was imported" body="Fix it" only %}')
    assert "Nothing was imported" in titled
    assert '<p class="govuk-body">Fix it</p>' in titled
