"""The portal's forms (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length

from crm_platform.runtime.passwords import MIN_PASSWORD_LENGTH


class PasswordForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
    )
    confirm = PasswordField(
        lazy_gettext("Repeat the password"),
        validators=[
            DataRequired(),
            EqualTo("password", message=lazy_gettext("The passwords do not match.")),
        ],
    )


class CaseForm(FlaskForm):
    subject = StringField(lazy_gettext("Subject"), validators=[DataRequired(), Length(max=255)])
    description = TextAreaField(
        lazy_gettext("Describe the problem"), validators=[Length(max=20_000)]
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        lazy_gettext("Your comment"), validators=[DataRequired(), Length(max=20_000)]
    )
