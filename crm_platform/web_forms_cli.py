"""``crm web-forms``: list the org's web forms and print the snippet that embeds one on
another site (the forms themselves are metadata: ``crm metadata apply``)."""

from __future__ import annotations

import sys

import click


@click.group("web-forms")
def web_forms() -> None:
    """Web forms: public pages (/f/NAME) and snippets that create records."""


def _model():
    from .cli import _org, _require_org

    org = _org()
    _require_org(org)
    with org.db.read() as conn:
        return org, org.models.model_for(conn)


@web_forms.command("list")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True)
def web_forms_list(base_url: str) -> None:
    """The active web forms: name, object, public URL."""
    from .webforms import web_forms_of

    _org, model = _model()
    forms = web_forms_of(model).by_name.values()
    if not forms:
        click.echo("no web forms")
    for form in forms:
        click.echo(f"{form.name}\t{form.object}\t{base_url.rstrip('/')}/f/{form.name}")


@web_forms.command("snippet")
@click.argument("name")
@click.option(
    "--base-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where the platform is reached from the other site.",
)
@click.option("--language", help="The language of the labels (default: the org's).")
def web_forms_snippet(name: str, base_url: str, language: str | None) -> None:
    """Print the HTML that embeds the web form NAME on another site."""
    from .cli import _app
    from .core.crypto import load_secret_key
    from .webforms import web_forms_of
    from .webforms.page import snippet_for

    org, model = _model()
    form = web_forms_of(model).get(name)
    if form is None:
        click.secho(f"no web form '{name}'", fg="red", err=True)
        sys.exit(1)
    _app()  # the snippet's labels are translated by the app's Babel
    secret = load_secret_key(org.settings)
    click.echo(snippet_for(model, form, base_url, secret, language), nl=False)
