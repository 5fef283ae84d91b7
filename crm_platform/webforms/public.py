"""The public pages of web forms, ``/f/<name>``: no sign-in, no session, posted from the
platform's own page or from a snippet on any other site.

A post is refused, in this order, when it is bigger than the form allows (413, before it
is read), carries no valid form token (400), or comes too often from its address (429,
counted across every worker in the database). A post that filled the honeypot is
answered as if it succeeded and creates nothing (a bot learns nothing). Otherwise the
record service creates the record as the form's guest user; its problems come back next
to the inputs with what was typed kept (400). Success redirects (303) to the form's
thank-you page or to its redirect URL.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask_babel import gettext

from crm_platform.core import CrmError, NotFound
from crm_platform.metadata.labels import resolve_label
from crm_platform.runtime import OrgModel
from crm_platform.web.transport import allow_cross_site

from .kind import WebForm, web_forms_of
from .page import (
    HONEYPOT,
    TOKEN,
    PublicForm,
    build,
    chooser,
    form_token,
    place,
    read_post,
    token_holds,
)
from .submit import REQUIRED, submit

bp = Blueprint("webforms", __name__, template_folder="templates")


def install_web_forms(app: Flask) -> None:
    """Serve the public form pages (posts from any site reach them)."""
    app.register_blueprint(bp)
    allow_cross_site(app, "webforms.form_page")


def _open(name: str) -> tuple[OrgModel, WebForm, PublicForm]:
    """The model, the active form named ``name`` (else 404) and its page for this visitor."""
    org = current_app.extensions["crm_org"]
    with org.db.read() as conn:
        model = org.models.model_for(conn)
    form = web_forms_of(model).get(name)
    if form is None:
        raise NotFound(f"no web form '{name}'")
    return model, form, build(model, form, _chooser(model))


def _chooser(model: OrgModel):
    languages = [lang for lang, _q in request.accept_languages]
    return chooser(languages, model.default_language)


def _render(page: PublicForm, status: int = 200, errors: list[str] | None = None) -> Any:
    html = render_template(
        "webforms/form.html",
        page=page,
        token=form_token(current_app.config["SECRET_KEY"], page.form),
        token_name=TOKEN,
        honeypot=HONEYPOT,
        form_errors=errors or [],
    )
    return current_app.make_response((html, status))


def _message(text: str, status: int, page: PublicForm | None, retry_after: int = 0) -> Any:
    html = render_template("webforms/message.html", page=page, message=text)
    response = current_app.make_response((html, status))
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.errorhandler(CrmError)
def _refused(error: CrmError) -> Any:
    text = gettext("This form does not exist.") if error.status == 404 else error.detail
    return _message(text, error.status, None)


@bp.route("/f/<name>", methods=["GET", "POST"])
def form_page(name: str) -> Any:
    """The form, and what becomes of a post of it."""
    model, form, page = _open(name)
    if request.method == "GET":
        return _render(page)
    if request.content_length is not None and request.content_length > form.max_bytes:
        return _message(gettext("What you sent is too large."), 413, page)
    request.max_content_length = form.max_bytes  # a post without a length stops there too
    if not token_holds(current_app.config["SECRET_KEY"], form, request.form.get(TOKEN)):
        return _render(page, 400, [gettext("The form expired or was incomplete. Try again.")])
    if request.form.get(HONEYPOT):
        return redirect(url_for("webforms.thanks", name=name), 303)  # nothing is created
    values = read_post(page, request.form, ZoneInfo(model.time_zone))
    org = current_app.extensions["crm_org"]
    outcome = submit(org, form, values, request.remote_addr or "")
    if outcome.outcome == "throttled":
        text = gettext("Too many submissions from your address. Try again later.")
        return _message(text, 429, page, outcome.retry_after)
    if outcome.outcome == "invalid":
        errors = {
            key: [gettext("This field is required.") if m == REQUIRED else m for m in messages]
            for key, messages in outcome.errors.items()
        }
        return _render(page, 400, place(page, errors))
    if form.success_redirect:
        return redirect(form.success_redirect, 303)
    return redirect(url_for("webforms.thanks", name=name), 303)


@bp.get("/f/<name>/thanks")
def thanks(name: str) -> Any:
    """The form's success message, in the visitor's language."""
    model, form, page = _open(name)
    if form.success_message:
        text = resolve_label(form.success_message, _chooser(model))
    else:
        text = gettext("Thank you. We received your message.")
    return _message(text, 200, page)
