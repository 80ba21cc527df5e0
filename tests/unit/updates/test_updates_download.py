# ruff: noqa: F811 - pytest fixtures imported from tests.support.update_server are parameters here
"""Download, signature check, verification and staging against real local HTTP(S) servers."""

from __future__ import annotations

import hashlib
import json
import socket

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
from voxtrald.updates.minisign import SecretKey, default_trusted_comment

OTHER_KEY = SecretKey.generate()


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
