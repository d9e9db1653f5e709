"""Jinja2 templates per kind and language: `<kind>.<language>.txt` (subject block + text) and
`<kind>.<language>.html`. HTML is autoescaped; a missing variable is an error, not a blank."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from cardreg_shared.models.common import Language
from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from ..domain.envelope import RenderedMail
from ..domain.requests import MailRequest

# Taiwan keeps UTC+8 all year; a fixed offset needs no tz database in the image.
TAIWAN = timezone(timedelta(hours=8))
KINDS = ("password_reset", "password_changed", "email_changed")
LANGUAGES: tuple[Language, ...] = ("zh-TW", "en")


def _local_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TAIWAN).strftime("%Y-%m-%d %H:%M")


class TemplateRenderer:
    def __init__(self, *, support_contact: str = "") -> None:
        self._env = Environment(
            loader=PackageLoader("cardreg_mailer", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # templates ship with the package: no stat() per mail
        )
        self._support_contact = support_contact

    def load_all(self) -> None:
        """Compile every template now, so a broken one stops start-up, not a mail."""
        for kind in KINDS:
            for language in LANGUAGES:
                self._pair(kind, language)

    def render(self, request: MailRequest) -> RenderedMail:
        text, html = self._pair(request.kind, request.language)
        context = {
            "mail": request,
            "when": _local_time(request.requested_at),
            "support_contact": self._support_contact,
        }
        subject = "".join(text.blocks["subject"](text.new_context(context))).strip()
        return RenderedMail(
            subject=subject,
            text=text.render(context).strip() + "\n",
            html=html.render({**context, "subject": subject}),
        )

    def _pair(self, kind: str, language: str) -> tuple[Template, Template]:
        # The environment caches compiled templates: this is a dict lookup after the first.
        stem = f"{kind}.{language}"
        return self._env.get_template(f"{stem}.txt"), self._env.get_template(f"{stem}.html")
