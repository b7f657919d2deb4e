"""Which webhook addresses a person may give: https to a public host, nothing else.

Every refusal is a 422 problem (``Unprocessable``); anything else escaping ``check_webhook_url``
would be a 500 for the person's PUT.
"""

import pytest

from kamu_notifications.commands.preferences import check_webhook_url
from kamu_notifications.settings import NotificationsSettings
from kamu_shared.web.errors import Unprocessable


def settings(*, http: bool = False, private: bool = False) -> NotificationsSettings:
    return NotificationsSettings(webhook_allow_http=http, webhook_allow_private=private)


def refused(url: str, slug: str, **flags: bool) -> Unprocessable:
    with pytest.raises(Unprocessable) as caught:
        check_webhook_url(settings(**flags), url)
    assert caught.value.status == 422
    assert caught.value.slug == slug
    return caught.value


PUBLIC = [
    "https://hooks.example.org/kamu",
    "https://hooks.example.org:8443/kamu?token=abc",
    "https://EXAMPLE.org/",
    "https://93.184.216.34/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://a.b.c.example.co.uk/x/y",
]
PRIVATE = [
    "https://localhost/hook",
    "https://LOCALHOST/hook",
    "https://localhost./hook",
    "https://127.0.0.1/hook",
    "https://127.0.0.53:8443/hook",
    "https://0.0.0.0/hook",
    "https://10.0.0.8/hook",
    "https://10.255.255.255/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.20/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/hook",  # carrier-grade NAT
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://intranet/hook",
    "https://2130706433/hook",  # 127.0.0.1 as one number: a name without a dot
    "https://printer.local/hook",
    "https://build.internal/hook",
    "https://metadata.google.internal/computeMetadata/v1",
    "https://app.localhost/hook",
    "https://nas.lan/hook",
    "https://router.home.arpa/hook",
]


@pytest.mark.parametrize("url", PUBLIC)
def test_https_to_a_public_host_is_accepted(url):
    assert check_webhook_url(settings(), url) is None


@pytest.mark.parametrize("url", ["http://hooks.example.org/kamu", "HTTP://hooks.example.org/"])
def test_http_is_refused_unless_allowed(url):
    error = refused(url, "invalid-webhook-url")

    assert "https" in str(error.detail)
    assert check_webhook_url(settings(http=True), url) is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.org/kamu",
        "file:///etc/passwd",
        "gopher://hooks.example.org/",
        "javascript:alert(1)",
        "hooks.example.org/kamu",
        "//hooks.example.org/kamu",
        "https:///kamu",
        "https://",
        "",
    ],
)
def test_other_schemes_and_hostless_urls_are_refused_even_when_http_is_allowed(url):
    refused(url, "invalid-webhook-url", http=True, private=True)


@pytest.mark.parametrize("url", PRIVATE)
def test_private_hosts_are_refused_unless_allowed(url):
    refused(url, "webhook-url-not-public")

    assert check_webhook_url(settings(private=True), url) is None


def test_private_hosts_over_http_need_both_allowances():
    url = "http://127.0.0.1:8080/hook"

    refused(url, "invalid-webhook-url", private=True)
    refused(url, "webhook-url-not-public", http=True)
    assert check_webhook_url(settings(http=True, private=True), url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@hooks.example.org/kamu",
        "https://user@hooks.example.org/kamu",
        "https://:secret@hooks.example.org/kamu",
        "https://hooks.example.org/kamu#fragment",
    ],
)
@pytest.mark.parametrize("allowed", [False, True], ids=["strict", "local-run"])
def test_credentials_and_fragments_are_refused_always(url, allowed):
    error = refused(url, "invalid-webhook-url", http=allowed, private=allowed)

    assert "secret" not in str(error.detail)
    assert "secret" not in str(error.to_dict())


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.org:99999/kamu",
        "https://hooks.example.org:65536/kamu",
        "https://hooks.example.org:abc/kamu",
        "https://hooks.example.org:-1/kamu",
        "https://hooks.example.org: 443/kamu",
        "https://[::1]:70000/kamu",
        "https://[::1/kamu",
        "https://hooks.example.org]/kamu",
    ],
)
@pytest.mark.parametrize("allowed", [False, True], ids=["strict", "local-run"])
def test_a_malformed_url_is_a_422_not_a_crash(url, allowed):
    refused(url, "invalid-webhook-url", http=allowed, private=allowed)


@pytest.mark.regression
@pytest.mark.parametrize(
    "url",
    [
        "https://127.1/hook",
        "https://10.1/hook",
        "https://192.168.1/hook",
        "https://0x7f.0.0.1/hook",
        "https://0xa9.0xfe.0xa9.0xfe/latest/meta-data",  # 169.254.169.254
    ],
)
def test_loopback_and_private_addresses_in_short_forms_are_refused(url):
    refused(url, "webhook-url-not-public")


@pytest.mark.regression
def test_port_zero_is_refused():
    refused("https://hooks.example.org:0/kamu", "invalid-webhook-url")
