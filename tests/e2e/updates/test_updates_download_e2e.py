# ruff: noqa: F811 - pytest fixtures imported from tests.support.update_server are parameters here
"""Download, signature check, verification and staging against real local HTTP(S) servers.

The tests that start real processes; those that start none are in
tests/unit/updates/test_updates_download.py.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from tests.support.update_server import (  # noqa: F401 - fixtures
    KEY,
    LATEST,
    PAYLOAD,
    PAYLOAD_SHA,
    REPO,
    WHEEL,
    Harness,
    asset,
    h,
    make_wheel,
    release,
)


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HTTPServer, str]]:
    """A real TLS server with a throwaway self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", ssl_context=context)
    server.start()
    try:
        yield server, str(cert)
    finally:
        server.clear()
        server.stop()


def test_redirect_to_https_elsewhere_is_followed_without_the_token(
    h: Harness, https_server: tuple[HTTPServer, str]
) -> None:
    tls, cert = https_server
    tls.clear()
    target = tls.url_for(f"/objects/{WHEEL}")
    assert target.startswith("https://")
    tls.expect_request(f"/objects/{WHEEL}").respond_with_data(PAYLOAD)
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD), f"sha256:{PAYLOAD_SHA}")])
    h.server.expect_request(f"/dl/{WHEEL}").respond_with_data(
        "", status=302, headers={"Location": target})
    result = h.checker(verify=cert, token="secret").download()
    assert result["staged"] is True, result
    assert len(tls.log) == 1
    assert "Authorization" not in tls.log[0][0].headers
    assert (h.updates / "1.1.0" / WHEEL).read_bytes() == PAYLOAD


def test_untrusted_certificate_is_refused(
    h: Harness, https_server: tuple[HTTPServer, str]
) -> None:
    tls, _cert = https_server
    tls.clear()
    tls.expect_request(f"/objects/{WHEEL}").respond_with_data(PAYLOAD)
    h.publish([asset(WHEEL, tls.url_for(f"/objects/{WHEEL}"), len(PAYLOAD),
                     f"sha256:{PAYLOAD_SHA}")])
    result = h.checker().download()  # system trust store: the test CA is not in it
    assert result["code"] == "download_failed"
    assert "certificate" in result["error"]
    assert h.nothing_staged()
