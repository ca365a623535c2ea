"""`{{ imp.message|import_message }}`: an import's stored summary in the reader's language."""

from django import template

from participants.imports.messages import localise

register = template.Library()


@register.filter
def import_message(value: object) -> str:
    return localise(str(value or ""))
