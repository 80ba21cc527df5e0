"""Download, verification and staging against real local HTTP(S) servers."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from voxtrald.config import UpdatesConfig
from voxtrald.events import EventLog
from voxtrald.updates.checker import UpdateChecker

REPO = "owner/voxtral"
LATEST = f"/repos/{REPO}/releases/latest"
WHEEL = "voxtral-1.1.0-py3-none-any.whl"
PAYLOAD = b"PK\x03\x04 fake wheel of voxtral 1.1.0 " * 20
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


def asset(name: str, url: str, size: int | None, digest: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "browser_download_url": url, "size": size}
    if digest is not None:
        data["digest"] = digest
    return data


def release(assets: list[dict[str, Any]], tag: str = "v1.1.0") -> dict[str, Any]:
    return {"tag_name": tag, "name": f"Voxtral {tag}", "draft": False, "prerelease": False,
            "html_url": f"https://github.com/{REPO}/releases/tag/{tag}", "assets": assets}


class Harness:
    def __init__(self, server: HTTPServer, tmp_path: Path) -> None:
        self.server = server
        self.state_dir = tmp_path / "state"
        self.updates = self.state_dir / "updates"

    def checker(self, current: str = "1.0.0", verify: bool | str = True,
                **cfg: Any) -> UpdateChecker:
        conf = UpdatesConfig(repo=REPO, api_url=self.server.url_for("/").rstrip("/"), **cfg)
        return UpdateChecker(conf, self.state_dir, EventLog(), current, initial_delay=0,
                             timeout=(2.0, 2.0), verify=verify)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def publish(self, assets: list[dict[str, Any]], tag: str = "v1.1.0") -> None:
        self.server.expect_request(LATEST).respond_with_json(release(assets, tag))

    def host(self, path: str, body: bytes = PAYLOAD) -> None:
        self.server.expect_request(path).respond_with_data(
            body, content_type="application/octet-stream")

    def nothing_staged(self) -> bool:
        return not self.updates.exists() or not any(self.updates.iterdir())

    def downloads(self) -> list[str]:
        return [r.path for r, _ in self.server.log if not r.path.startswith("/repos/")]


@pytest.fixture
def h(httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return Harness(httpserver, tmp_path)


def test_matching_digest_is_staged_with_a_manifest(h: Harness) -> None:
    h.publish([asset("voxtral-1.1.0.tar.gz", h.url("/dl/src"), 5),
               asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD), f"sha256:{PAYLOAD_SHA}")])
    h.host(f"/dl/{WHEEL}")
    checker = h.checker()
    result = checker.download()
    assert result["staged"] is True, result
    folder = h.updates / "1.1.0"
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", WHEEL]
    assert (folder / WHEEL).read_bytes() == PAYLOAD
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == "1.1.0"
    assert manifest["file"] == WHEEL
    assert manifest["sha256"] == PAYLOAD_SHA
    assert manifest["size"] == len(PAYLOAD)
    assert manifest["source_url"] == h.url(f"/dl/{WHEEL}")
    assert manifest["staged_at"].endswith("Z")
    assert result["path"] == str(folder / WHEEL)
    assert [p.name for p in h.updates.iterdir()] == ["1.1.0"]  # no temp folders left
    # Staged already: a second call does not download again.
    assert checker.download()["sha256"] == PAYLOAD_SHA
    assert h.downloads() == [f"/dl/{WHEEL}"]
    assert checker.staged()["path"] == str(folder / WHEEL)


def test_mismatching_digest_is_rejected_and_nothing_staged(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD), "sha256:" + "0" * 64)])
    h.host(f"/dl/{WHEEL}")
    result = h.checker().download()
    assert result["staged"] is False
    assert result["code"] == "verification_failed"
    assert "does not match" in result["error"]
    assert h.nothing_staged()


def test_sha256sums_file_is_used_when_there_is_no_digest(h: Harness) -> None:
    sums = f"{'1' * 64}  voxtral-1.1.0.tar.gz\n{PAYLOAD_SHA}  {WHEEL}\n".encode()
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD)),
               asset("SHA256SUMS", h.url("/dl/SHA256SUMS"), len(sums))])
    h.host(f"/dl/{WHEEL}")
    h.host("/dl/SHA256SUMS", sums)
    result = h.checker().download()
    assert result["staged"] is True, result
    assert result["sha256"] == PAYLOAD_SHA


def test_no_digest_and_no_sha256sums_is_refused(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD))])
    h.host(f"/dl/{WHEEL}")
    result = h.checker().download()
    assert result == {"staged": False, "code": "unverifiable", "error": result["error"]}
    assert "unverified" in result["error"]
    assert h.downloads() == []
    assert h.nothing_staged()


def test_release_with_no_assets(h: Harness) -> None:
    h.publish([])
    result = h.checker().download()
    assert result["code"] == "no_asset"
    assert h.nothing_staged()


def test_asset_larger_than_its_stated_size_is_rejected(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), 100, f"sha256:{PAYLOAD_SHA}")])
    h.host(f"/dl/{WHEEL}")
    result = h.checker().download()
    assert result["code"] == "too_large"
    assert h.nothing_staged()


def test_asset_above_the_download_cap_is_not_even_fetched(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), 5 * 1024 * 1024, f"sha256:{PAYLOAD_SHA}")])
    h.host(f"/dl/{WHEEL}")
    result = h.checker(max_download_mb=1).download()
    assert result["code"] == "too_large"
    assert h.downloads() == []
    assert h.nothing_staged()


def test_unstated_size_is_capped_while_streaming(h: Harness) -> None:
    big = b"x" * (300 * 1024)
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), None,
                     "sha256:" + hashlib.sha256(big).hexdigest())])
    h.host(f"/dl/{WHEEL}", big)
    result = h.checker(max_download_mb=0.1).download()
    assert result["code"] == "too_large"
    assert h.nothing_staged()


def test_truncated_download_leaves_nothing(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD) + 50, f"sha256:{PAYLOAD_SHA}")])
    h.host(f"/dl/{WHEEL}")
    result = h.checker().download()
    assert result["staged"] is False
    assert "incomplete" in result["error"]
    assert h.nothing_staged()


def test_redirect_on_the_same_host_is_followed(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD), f"sha256:{PAYLOAD_SHA}")])
    h.server.expect_request(f"/dl/{WHEEL}").respond_with_data(
        "", status=302, headers={"Location": f"/objects/{WHEEL}"})
    h.host(f"/objects/{WHEEL}")
    result = h.checker().download()
    assert result["staged"] is True, result
    assert h.downloads() == [f"/dl/{WHEEL}", f"/objects/{WHEEL}"]


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


@pytest.mark.e2e  # starts a process
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


@pytest.mark.e2e  # starts a process
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


def test_redirect_to_plain_http_elsewhere_is_refused(h: Harness) -> None:
    other = HTTPServer(host="127.0.0.1")
    other.start()
    try:
        other.expect_request(f"/objects/{WHEEL}").respond_with_data(PAYLOAD)
        h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD), f"sha256:{PAYLOAD_SHA}")])
        h.server.expect_request(f"/dl/{WHEEL}").respond_with_data(
            "", status=302, headers={"Location": other.url_for(f"/objects/{WHEEL}")})
        result = h.checker().download()
        assert result["staged"] is False
        assert "only https" in result["error"]
        assert other.log == []
        assert h.nothing_staged()
    finally:
        other.stop()


def test_not_newer_is_never_staged(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD), f"sha256:{PAYLOAD_SHA}")])
    h.host(f"/dl/{WHEEL}")
    result = h.checker(current="1.1.0").download()
    assert result["code"] == "no_update"
    assert h.downloads() == []
    assert h.nothing_staged()


def test_asset_host_refusing_connections_is_a_clean_error(h: Harness) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    h.publish([asset(WHEEL, f"https://127.0.0.1:{port}/{WHEEL}", len(PAYLOAD),
                     f"sha256:{PAYLOAD_SHA}")])
    result = h.checker().download()
    assert result["code"] == "download_failed"
    assert result["error"].startswith("cannot reach 127.0.0.1")
    assert h.nothing_staged()


def test_leftover_temp_folder_of_an_interrupted_download_is_swept(h: Harness) -> None:
    leftover = h.updates / ".staging-crashed"
    leftover.mkdir(parents=True)
    (leftover / WHEEL).write_bytes(b"half")
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD), f"sha256:{PAYLOAD_SHA}")])
    h.host(f"/dl/{WHEEL}")
    assert h.checker().download()["staged"] is True
    assert [p.name for p in h.updates.iterdir()] == ["1.1.0"]


def test_corrupted_staged_copy_is_replaced(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD), f"sha256:{PAYLOAD_SHA}")])
    h.host(f"/dl/{WHEEL}")
    checker = h.checker()
    assert checker.download()["staged"] is True
    (h.updates / "1.1.0" / WHEEL).write_bytes(b"tampered")
    assert checker.staged() is None
    assert checker.download()["staged"] is True
    assert (h.updates / "1.1.0" / WHEEL).read_bytes() == PAYLOAD


@pytest.mark.parametrize(
    "name",
    ["voxtral-1.1.0-py3-none-any\x1b]0;x\x07.whl", "voxtral-1.1.0-py3-none-any\x00.whl"],
    ids=["terminal-escape", "nul"],
)
def test_wheel_name_unfit_for_a_file_or_a_terminal_is_never_fetched(
    h: Harness, name: str
) -> None:
    # Before, the escape became a file name in the state folder and was printed
    # by `voxtrald download-update`; the NUL made open() raise (a 500).
    h.publish([asset(name, h.url("/dl/wheel"), len(PAYLOAD), f"sha256:{PAYLOAD_SHA}")])
    h.host("/dl/wheel")
    result = h.checker().download()
    assert result["code"] == "no_asset", result
    assert h.downloads() == []
    assert h.nothing_staged()
