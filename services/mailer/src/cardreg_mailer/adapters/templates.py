"""Jinja2 templates per kind, text and HTML, with their words from the mail catalogue.

`<kind>.txt` (a `subject` block and the text) and `<kind>.html` (autoescaped, on
`layout.html`) hold the layout only; every sentence is `t("key", name=value)`, the catalogue's
text in the request's language (`adapters/catalogue.py`) with its `{name}` placeholders filled.
In HTML the text and the values are escaped, except values marked up by the template itself
(`when|strong`). A missing variable, key or placeholder value is an error, not a blank.

Not Jinja2's i18n extension: its gettext looks texts up by their source text and formats
`%(name)s` under autoescape trusting the translation as HTML; ours are looked up by key, share
the portal's `{name}` syntax and are never trusted as markup.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args

from cardreg_shared.models.common import Language
from cardreg_shared.models.mail import PasswordResetMail, SetupMail
from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    Template,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup, escape

from ..domain.envelope import RenderedMail
from ..domain.links import in_language
from ..domain.requests import MailRequest
from .catalogue import Catalogue, load_catalogue

# Taiwan keeps UTC+8 all year; a fixed offset needs no tz database in the image.
TAIWAN = timezone(timedelta(hours=8))
KINDS = ("password_reset", "password_changed", "email_changed", "setup", "reactivated")
LANGUAGES: tuple[Language, ...] = get_args(Language)


def _local_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TAIWAN).strftime("%Y-%m-%d %H:%M")


def _strong(value: Any) -> Markup:
    return Markup("<strong>{}</strong>").format(value)


class TemplateRenderer:
    def __init__(self, *, support_contact: str = "", catalogue: Catalogue | None = None) -> None:
        self._catalogue = catalogue or load_catalogue()
        self._env = Environment(
            loader=PackageLoader("cardreg_mailer", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # templates ship with the package: no stat() per mail
        )
        self._env.globals["t"] = self._text
        self._env.filters["strong"] = _strong
        self._support_contact = support_contact

    def load_all(self) -> None:
        """Compile every template and check every language has its texts now, so a broken
        template or catalogue stops start-up, not a mail."""
        missing = set(LANGUAGES) - set(self._catalogue.languages)
        if missing:
            raise RuntimeError(f"no mail texts for {', '.join(sorted(missing))}")
        for kind in KINDS:
            self._pair(kind)

    def render(self, request: MailRequest) -> RenderedMail:
        text, html = self._pair(request.kind)
        context = {
            "mail": request,
            "when": _local_time(request.requested_at),
            "support_contact": self._support_contact,
        }
        if isinstance(request, PasswordResetMail):
            context["link"] = in_language(request.reset_url, request.language)
        if isinstance(request, SetupMail):
            context["link"] = in_language(request.setup_url, request.language)
        subject = "".join(text.blocks["subject"](text.new_context(context))).strip()
        return RenderedMail(
            subject=subject,
            text=text.render(context).strip() + "\n",
            html=html.render({**context, "subject": subject}),
        )

    @pass_context
    def _text(self, context: Context, key: str, **values: Any) -> str:
        template = self._catalogue.text(context["mail"].language, key)
        if context.eval_ctx.autoescape:
            return escape(template).format(**values)  # Markup.format escapes each value
        return template.format(**values)

    def _pair(self, kind: str) -> tuple[Template, Template]:
        # The environment caches compiled templates: this is a dict lookup after the first.
        return self._env.get_template(f"{kind}.txt"), self._env.get_template(f"{kind}.html")
