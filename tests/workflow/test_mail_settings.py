"""CRM_SMTP_URL and CRM_MAIL_FROM: how a deployment says where automation's mail goes."""

from __future__ import annotations

import pytest

from crm_platform.core import load_settings
from crm_platform.workflow.mail.smtp import SmtpConfig, parse_smtp_url, smtp_config


def settings_with(monkeypatch, tmp_path, **env):
    for name in ("CRM_SMTP_URL", "CRM_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings("sqlite:///crm.db", tmp_path)


def test_with_no_smtp_url_mail_is_kept(monkeypatch, tmp_path):
    settings = settings_with(monkeypatch, tmp_path)
    assert smtp_config(settings) is None
    assert settings.mail_from == "crm@localhost"


def test_the_url_gives_server_login_and_sender(monkeypatch, tmp_path):
    settings = settings_with(
        monkeypatch,
        tmp_path,
        CRM_SMTP_URL="smtp://mailer%40acme:p%2Fss@mail.acme.test:2525?starttls=true&timeout=7",
        CRM_MAIL_FROM="CRM <crm@acme.test>",
    )
    assert smtp_config(settings) == SmtpConfig(
        host="mail.acme.test",
        port=2525,
        starttls=True,
        username="mailer@acme",
        password="p/ss",
        timeout=7.0,
    )
    assert settings.mail_from == "CRM <crm@acme.test>"


@pytest.mark.parametrize(
    ("url", "port", "tls", "starttls"),
    [
        ("smtp://mail.acme.test", 25, False, False),
        ("smtp://mail.acme.test?starttls=true", 587, False, True),
        ("smtps://mail.acme.test", 465, True, False),
    ],
)
def test_default_ports_follow_the_way_tls_is_spoken(url, port, tls, starttls):
    config = parse_smtp_url(url)
    assert (config.port, config.ssl, config.starttls) == (port, tls, starttls)


@pytest.mark.parametrize(
    "url", ["http://mail.acme.test", "mail.acme.test:25", "smtp://", "smtp://mail.acme.test:x"]
)
def test_a_url_that_is_not_smtp_stops_the_start(monkeypatch, tmp_path, url):
    with pytest.raises(ValueError, match="CRM_SMTP_URL must be smtp://"):
        settings_with(monkeypatch, tmp_path, CRM_SMTP_URL=url)
