"""Download, signature check, verification and staging against real local HTTP(S) servers."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import socket
import ssl
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from voxtrald.config import UpdatesConfig
from voxtrald.events import EventLog
from voxtrald.updates.checker import UpdateChecker
from voxtrald.updates.minisign import SecretKey, default_trusted_comment

REPO = "owner/voxtral"
LATEST = f"/repos/{REPO}/releases/latest"
WHEEL = "voxtral-1.1.0-py3-none-any.whl"


def make_wheel(version: str, padding: int = 2000) -> bytes:
    """A small real wheel (a zip with METADATA), enough for the staging checks."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(f"voxtral-{version}.dist-info/METADATA",
                    f"Metadata-Version: 2.1\nName: voxtral\nVersion: {version}\n\n")
        zf.writestr("voxtrald/__init__.py", "# " + "x" * padding + "\n")
    return out.getvalue()


PAYLOAD = make_wheel("1.1.0")
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
KEY = SecretKey.generate()
OTHER_KEY = SecretKey.generate()


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
        cfg.setdefault("public_keys", [KEY.public.encode()])
        conf = UpdatesConfig(repo=REPO, api_url=self.server.url_for("/").rstrip("/"), **cfg)
        return UpdateChecker(conf, self.state_dir, EventLog(), current, initial_delay=0,
                             timeout=(2.0, 2.0), verify=verify)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def publish(self, assets: list[dict[str, Any]], tag: str = "v1.1.0", *,
                signed: bool = True, listed: dict[str, str] | None = None,
                key: SecretKey = KEY, comment: str | None = None) -> None:
        """The release; signed: with SHA256SUMS (listing `listed`) and its minisig by `key`."""
        if signed:
            listed = {WHEEL: PAYLOAD_SHA} if listed is None else listed
            sums = "".join(f"{digest}  {name}\n" for name, digest in listed.items()).encode()
            sig = key.sign(sums, comment or default_trusted_comment("SHA256SUMS")).encode()
            self.host("/dl/SHA256SUMS", sums)
            self.host("/dl/SHA256SUMS.minisig", sig)
            assets = [*assets, asset("SHA256SUMS", self.url("/dl/SHA256SUMS"), len(sums)),
                      asset("SHA256SUMS.minisig", self.url("/dl/SHA256SUMS.minisig"), len(sig))]
        self.server.expect_request(LATEST).respond_with_json(release(assets, tag))

    def host(self, path: str, body: bytes = PAYLOAD) -> None:
        self.server.expect_request(path).respond_with_data(
            body, content_type="application/octet-stream")

    def nothing_staged(self) -> bool:
        return not self.updates.exists() or not any(self.updates.iterdir())

    def downloads(self) -> list[str]:
        """The wheel downloads (the small signed manifest is fetched first, always)."""
        return [r.path for r, _ in self.server.log
                if not r.path.startswith("/repos/") and "SHA256SUMS" not in r.path]


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
    assert sorted(p.name for p in folder.iterdir()) == [
        "SHA256SUMS", "SHA256SUMS.minisig", "manifest.json", WHEEL]
    assert (folder / WHEEL).read_bytes() == PAYLOAD
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == "1.1.0"
    assert manifest["file"] == WHEEL
    assert manifest["sha256"] == PAYLOAD_SHA
    assert manifest["size"] == len(PAYLOAD)
    assert manifest["source_url"] == h.url(f"/dl/{WHEEL}")
    assert manifest["staged_at"].endswith("Z")
    assert manifest["signed_by"] == KEY.public.id and result["signed_by"] == KEY.public.id
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
    assert "disagrees with the signed SHA256SUMS" in result["error"]
    assert h.downloads() == []
    assert h.nothing_staged()


def test_signed_sha256sums_is_enough_without_a_github_digest(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD))],
              listed={"voxtral-1.1.0.tar.gz": "1" * 64, WHEEL: PAYLOAD_SHA})
    h.host(f"/dl/{WHEEL}")
    result = h.checker().download()
    assert result["staged"] is True, result
    assert result["sha256"] == PAYLOAD_SHA


def test_unsigned_release_is_refused_before_any_download(h: Harness) -> None:
    # A matching GitHub digest proves nothing about who made the release.
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD), f"sha256:{PAYLOAD_SHA}")],
              signed=False)
    h.host(f"/dl/{WHEEL}")
    result = h.checker().download()
    assert result == {"staged": False, "code": "unsigned", "error": result["error"]}
    assert "not signed" in result["error"]
    assert h.downloads() == []
    assert h.nothing_staged()


def test_signature_by_another_key_is_refused(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD))], key=OTHER_KEY)
    h.host(f"/dl/{WHEEL}")
    result = h.checker().download()
    assert result["code"] == "bad_signature"
    assert f"signed by key {OTHER_KEY.public.id}, which is not trusted" in result["error"]
    assert h.downloads() == [] and h.nothing_staged()


def test_either_of_two_configured_keys_is_accepted(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD))], key=OTHER_KEY)
    h.host(f"/dl/{WHEEL}")
    keys = [KEY.public.encode(), OTHER_KEY.public.encode()]
    result = h.checker(public_keys=keys).download()
    assert result["staged"] is True and result["signed_by"] == OTHER_KEY.public.id


def test_the_pinned_key_is_used_when_none_is_configured(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD))])
    h.host(f"/dl/{WHEEL}")
    result = h.checker(public_keys=[]).download()  # signed by a test key, not the project's
    assert result["code"] == "bad_signature" and "not trusted" in result["error"]


def test_altered_signed_manifest_is_refused(h: Harness) -> None:
    sums = f"{PAYLOAD_SHA}  {WHEEL}\n".encode()
    sig = KEY.sign(b"another text", default_trusted_comment("SHA256SUMS")).encode()
    h.host("/dl/SHA256SUMS", sums)
    h.host("/dl/SHA256SUMS.minisig", sig)
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD)),
               asset("SHA256SUMS", h.url("/dl/SHA256SUMS"), len(sums)),
               asset("SHA256SUMS.minisig", h.url("/dl/SHA256SUMS.minisig"), len(sig))],
              signed=False)
    result = h.checker().download()
    assert result["code"] == "bad_signature" and "does not match" in result["error"]
    assert h.nothing_staged()


def test_signed_manifest_that_does_not_list_the_wheel_is_refused(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD))],
              listed={"voxtral-1.0.0-py3-none-any.whl": PAYLOAD_SHA})
    h.host(f"/dl/{WHEEL}")
    result = h.checker().download()
    assert result["code"] == "unverifiable" and "does not list" in result["error"]
    assert h.downloads() == [] and h.nothing_staged()


def test_signed_manifest_for_another_version_is_refused(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD))],
              comment=default_trusted_comment("SHA256SUMS", version="1.0.5"))
    h.host(f"/dl/{WHEEL}")
    result = h.checker().download()
    assert result["code"] == "bad_signature"
    assert "for version 1.0.5, not 1.1.0" in result["error"]
    assert h.nothing_staged()


def test_tampered_wheel_is_refused(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD))])
    tampered = bytearray(PAYLOAD)
    tampered[-30] ^= 0xFF
    h.host(f"/dl/{WHEEL}", bytes(tampered))
    result = h.checker().download()
    assert result["code"] == "verification_failed"
    assert "does not match the signed SHA256SUMS" in result["error"]
    assert h.nothing_staged()


def test_wheel_whose_metadata_names_another_version_is_refused(h: Harness) -> None:
    inner = make_wheel("1.0.0")
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(inner))],
              listed={WHEEL: hashlib.sha256(inner).hexdigest()})
    h.host(f"/dl/{WHEEL}", inner)
    result = h.checker().download()
    assert result["code"] == "verification_failed" and "not a wheel of version 1.1.0" in \
        result["error"]
    assert h.nothing_staged()


def test_staged_copy_is_checked_again_against_the_trusted_keys(h: Harness) -> None:
    h.publish([asset(WHEEL, h.url(f"/dl/{WHEEL}"), len(PAYLOAD))])
    h.host(f"/dl/{WHEEL}")
    assert h.checker().download()["staged"] is True
    h.checker().check(refresh=True)
    staged = h.checker().staged()
    assert staged is not None and staged["signed_by"] == KEY.public.id
    assert h.checker(public_keys=[OTHER_KEY.public.encode()]).staged() is None


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
                     "sha256:" + hashlib.sha256(big).hexdigest())],
              listed={WHEEL: hashlib.sha256(big).hexdigest()})
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
