"""Where a webhook may go: https only, hosts on the admin's allow-list, and no address
inside the network (loopback, private, link-local, multicast, unspecified) after DNS
resolution unless the allow-list names its network or private addresses are allowed."""

from __future__ import annotations

import ipaddress

import pytest

from crm_platform.core.webhook_settings import WebhookSettings, load_webhook_settings
from crm_platform.workflow.webhooks import Refused, WebhookPolicy
from crm_platform.workflow.webhooks.policy import Unresolved

PUBLIC = "93.184.216.34"


def policy(*entries: str, allow_private: bool = False) -> WebhookPolicy:
    settings = load_webhook_settings({"CRM_WEBHOOK_ALLOWED_HOSTS": ",".join(entries)})
    return WebhookPolicy(
        WebhookSettings(
            hosts=settings.hosts, networks=settings.networks, allow_private=allow_private
        )
    )


def dns(answers: dict[str, list[str]]):
    return lambda host, port: answers[host]


def problems(p: WebhookPolicy, url: str) -> list[str]:
    return list(p.url_problems(url))


INSIDE = "webhooks cannot reach inside the network"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://erp.example.com/hooks", "webhooks are sent over https only: use an https:// URL"),
        ("ftp://erp.example.com/", "webhooks are sent over https only: use an https:// URL"),
        (
            "https://user:pw@erp.example.com/",
            "a webhook URL cannot hold credentials: sign with secret_ref instead",
        ),
        ("https:///hooks", "the URL names no host"),
        (
            "https://evil.test/hooks",
            "evil.test is not on the webhook allow-list (CRM_WEBHOOK_ALLOWED_HOSTS): "
            "an admin adds it there",
        ),
        (
            "https://example.com/",  # *.example.com is its subdomains only
            "example.com is not on the webhook allow-list (CRM_WEBHOOK_ALLOWED_HOSTS): "
            "an admin adds it there",
        ),
        (
            "https://evilexample.com/",
            "evilexample.com is not on the webhook allow-list (CRM_WEBHOOK_ALLOWED_HOSTS): "
            "an admin adds it there",
        ),
        (
            "https://127.0.0.1/hooks",
            "127.0.0.1 is not on the webhook allow-list (CRM_WEBHOOK_ALLOWED_HOSTS): "
            "an admin adds it there",
        ),
    ],
)
def test_urls_refused_before_any_lookup(url, problem):
    assert problems(policy("erp.example.com", "*.example.com"), url) == [problem]


def test_allowed_hosts_match_names_and_subdomains_case_insensitively():
    p = policy("erp.example.com", "*.partner.org")
    assert problems(p, "https://ERP.example.com./hooks/won") == []
    assert problems(p, "https://a.b.partner.org:8443/x") == []
    assert not p.host_allowed("partner.org")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.10", "private"),
        ("100.64.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
    ],
)
def test_addresses_inside_the_network_are_refused_even_for_any_host(address, kind):
    p = policy("*")
    host = f"[{address}]" if ":" in address else address
    shown = ipaddress.ip_address(address)
    assert problems(p, f"https://{host}/hooks") == [f"{shown} is a {kind} address: {INSIDE}"]
    with pytest.raises(Refused, match=f"is a {kind} address"):
        p.target(f"https://{host}/hooks")


@pytest.mark.parametrize("answer", ["10.0.0.5", "169.254.169.254", "127.0.0.1", "::1"])
def test_a_name_resolving_inside_the_network_is_refused(answer):
    p = policy("erp.example.com")
    with pytest.raises(Refused) as refused:
        p.target("https://erp.example.com/hooks", dns({"erp.example.com": [answer]}))
    assert refused.value.reason.startswith(f"erp.example.com resolves to {answer}, a ")
    assert refused.value.reason.endswith(INSIDE)


def test_localhost_resolved_by_the_system_is_refused():
    p = policy("localhost")
    with pytest.raises(Refused, match=r"localhost resolves to .*, a loopback address"):
        p.target("https://localhost:8443/hooks")


def test_one_address_inside_the_network_refuses_the_name():
    p = policy("erp.example.com")
    with pytest.raises(Refused, match=r"resolves to 10\.9\.9\.9, a private address"):
        p.target("https://erp.example.com/", dns({"erp.example.com": [PUBLIC, "10.9.9.9"]}))


def test_the_target_is_the_address_that_was_judged():
    p = policy("erp.example.com")
    target = p.target(
        "https://erp.example.com:8443/hooks/won?x=1#frag",
        dns({"erp.example.com": [PUBLIC, PUBLIC]}),
    )
    assert target.address == ipaddress.ip_address(PUBLIC)
    assert (target.host, target.port) == ("erp.example.com", 8443)
    assert target.url == "https://erp.example.com:8443/hooks/won?x=1"


def test_private_addresses_open_with_the_setting_but_loopback_and_link_local_do_not():
    p = policy("erp.internal.test", allow_private=True)
    found = p.target("https://erp.internal.test/", dns({"erp.internal.test": ["10.0.0.5"]}))
    assert str(found.address) == "10.0.0.5"
    for answer, kind in (("127.0.0.1", "loopback"), ("169.254.169.254", "link-local")):
        with pytest.raises(Refused, match=f"a {kind} address"):
            p.target("https://erp.internal.test/", dns({"erp.internal.test": [answer]}))


def test_a_network_on_the_allow_list_opens_its_addresses_and_only_those():
    p = policy("erp.internal.test", "10.20.0.0/16", "127.0.0.1")
    assert problems(p, "https://10.20.3.4/hooks") == []
    assert problems(p, "https://127.0.0.1:9443/hooks") == []
    assert str(p.target("https://10.20.3.4/").address) == "10.20.3.4"
    resolve = dns({"erp.internal.test": ["10.20.0.7"]})
    assert str(p.target("https://erp.internal.test/", resolve).address) == "10.20.0.7"
    with pytest.raises(Refused, match=r"10\.21\.0\.7, a private address"):
        p.target("https://erp.internal.test/", dns({"erp.internal.test": ["10.21.0.7"]}))
    assert problems(p, "https://10.21.0.1/") == [
        "10.21.0.1 is not on the webhook allow-list (CRM_WEBHOOK_ALLOWED_HOSTS): "
        "an admin adds it there"
    ]


def test_a_name_that_does_not_resolve_is_unresolved():
    p = policy("nowhere.invalid")
    with pytest.raises(Unresolved, match=r"nowhere\.invalid does not resolve"):
        p.target("https://nowhere.invalid/")


def test_settings_from_the_environment():
    settings = load_webhook_settings(
        {
            "CRM_WEBHOOK_ALLOWED_HOSTS": " ERP.example.com , *.partner.org,10.0.0.0/8,[::1] ",
            "CRM_WEBHOOK_ALLOW_PRIVATE": "true",
            "CRM_WEBHOOK_CONNECT_TIMEOUT": "2.5",
            "CRM_WEBHOOK_SECRET_ERP": "s3cret",
            "CRM_WEBHOOK_SECRET_BILLING_V2": "other",
            "CRM_WEBHOOK_SECRET_EMPTY": "",
        }
    )
    assert settings.hosts == ("erp.example.com", "*.partner.org")
    assert [str(n) for n in settings.networks] == ["10.0.0.0/8", "::1/128"]
    assert settings.allow_private and settings.connect_timeout == 2.5
    assert settings.read_timeout == 10.0
    assert (settings.secret("erp"), settings.secret("billing_v2")) == ("s3cret", "other")
    assert settings.secret("empty") is None
    assert "s3cret" not in repr(settings)  # settings may be logged; secrets are not


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CRM_WEBHOOK_ALLOWED_HOSTS", "erp.example.com,https://x.test", "neither a host pattern"),
        ("CRM_WEBHOOK_ALLOWED_HOSTS", "a*.example.com", "neither a host pattern"),
        ("CRM_WEBHOOK_ALLOW_PRIVATE", "maybe", "must be true or false"),
        ("CRM_WEBHOOK_READ_TIMEOUT", "0", "between 0 and 300 seconds"),
        ("CRM_WEBHOOK_CONNECT_TIMEOUT", "soon", "a number of seconds"),
        ("CRM_WEBHOOK_CA_FILE", "/nonexistent/ca.pem", "no file"),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(variable, value, message):
    with pytest.raises(ValueError, match=variable) as refused:
        load_webhook_settings({variable: value})
    assert message in str(refused.value)
