"""The pure parts of the updater: tags, comparison, cleaning, asset choice, rate-limit times."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxtrald.updates import net, sanitize
from voxtrald.updates.github import MAX_WAIT, retry_time
from voxtrald.updates.release import (
    choose_wheel,
    evaluate,
    normalize_release,
    parse_sha256sums,
    pick_release,
)
from voxtrald.updates.versions import InvalidTag, is_newer, parse_tag

HEX = "ab" * 32


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("v1.2.3", "1.2.3"), ("V1.2.3", "1.2.3"), ("1.2.3", "1.2.3"), ("v2.0.0rc1", "2.0.0rc1"),
     ("v1.2.0-rc.1", "1.2.0rc1"), ("1.2", "1.2")],
)
def test_tags_that_name_a_release(tag: str, expected: str) -> None:
    assert str(parse_tag(tag)) == expected


@pytest.mark.parametrize(
    "tag",
    ["../../x", "v1.2.3-1", "latest", "1.2.3+local", "vv1.2.3", "", " 1.2.3", "1.2.3/..",
     "1!2.0", "v" + "1." * 40 + "0", None, 12],
)
def test_doubtful_tags_are_refused(tag: object) -> None:
    with pytest.raises(InvalidTag):
        parse_tag(tag)


@pytest.mark.parametrize(
    ("candidate", "current", "newer"),
    [("1.1.0", "1.0.0", True), ("1.0.0", "1.0.0", False), ("0.9.0", "1.0.0", False),
     ("1.0.1", "1.0.0", True), ("1.0.0rc1", "1.0.0", False), ("1.0.0", "not-a-version", True),
     ("1.10.0", "1.9.0", True)],
)
def test_only_a_strictly_newer_version_is_an_update(
    candidate: str, current: str, newer: bool
) -> None:
    assert is_newer(parse_tag(candidate), current) is newer


def test_clean_text_strips_controls_and_bidi_and_caps() -> None:
    raw = "Voxtral\x1b[31m 1.1\u202e0\x00\nbeta" + "x" * 500
    cleaned = sanitize.clean_text(raw, 40)
    assert "\x1b" not in cleaned and "\u202e" not in cleaned and "\x00" not in cleaned
    assert "\n" not in cleaned
    assert len(cleaned) == 40 and cleaned.endswith("…")
    notes = sanitize.clean_text("line 1\r\nline\x07 2\n\ttabbed", 100, multiline=True)
    assert notes == "line 1\nline 2\n\ttabbed"


@given(st.text(max_size=300), st.integers(min_value=1, max_value=100), st.booleans())
def test_clean_text_never_lets_a_control_character_through(
    text: str, limit: int, multiline: bool
) -> None:
    cleaned = sanitize.clean_text(text, limit, multiline=multiline)
    assert len(cleaned) <= limit
    allowed = {"\n", "\t"} if multiline else set()
    assert all(unicodedata.category(c) != "Cc" or c in allowed for c in cleaned)


@pytest.mark.parametrize(
    ("url", "kept"),
    [("https://github.com/o/r/releases/tag/v1.1.0", True),
     ("http://github.com/o/r/releases/tag/v1.1.0", False),
     ("javascript:alert(1)", False), ("https://user:pw@github.com/", False),
     ("https://github.com/a b", False), ("https://github.com/\x1b[2J", False),
     ("https://", False), ("https://github.com:99999/", False), (None, False)],
)
def test_only_plain_https_links_survive(url: object, kept: bool) -> None:
    assert (sanitize.clean_https_url(url) is not None) is kept


def test_sha256_forms() -> None:
    assert sanitize.clean_sha256("sha256:" + HEX.upper()) == HEX
    assert sanitize.clean_sha256(HEX) == HEX
    assert sanitize.clean_sha256("sha512:" + HEX) is None
    assert sanitize.clean_sha256("sha256:abc") is None


def _asset(name: str, digest: str | None = None) -> dict:
    return {"name": name, "url": f"https://x/{name}", "size": 10, "sha256": digest}


def test_choose_wheel_wants_this_distribution_at_that_version() -> None:
    assets = [
        _asset("voxtral-1.1.0.tar.gz"),
        _asset("voxtral-1.0.0-py3-none-any.whl"),
        _asset("other-1.1.0-py3-none-any.whl"),
        _asset("voxtral-1.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
        _asset("voxtral-1.1.0-py3-none-any.whl"),
    ]
    assert choose_wheel(assets, "1.1.0")["name"] == "voxtral-1.1.0-py3-none-any.whl"
    assert choose_wheel(assets[:4], "1.1.0")["name"].startswith("voxtral-1.1.0-cp311")
    assert choose_wheel([_asset("../voxtral-1.1.0-py3-none-any.whl")], "1.1.0") is None
    assert choose_wheel([], "1.1.0") is None


@pytest.mark.parametrize(
    "name",
    ["voxtral-1.1.0-py3-none-any\x1b]0;x\x07.whl", "voxtral-1.1.0-py3-none-any\x00.whl",
     "voxtral-1.1.0-py3-none-any\u202e.whl", "voxtral-1.1.0-py3-none-any .whl",
     "voxtral-1.1.0-py3-none-" + "a" * 300 + ".whl"],
    ids=["escape", "nul", "bidi", "space", "long"],
)
def test_choose_wheel_refuses_names_unfit_for_a_file_or_a_terminal(name: str) -> None:
    # Each of these is a valid wheel file name to `packaging`, platform tag and all.
    assert choose_wheel([_asset(name)], "1.1.0") is None


def test_header_counts_are_ascii_digits_only() -> None:
    assert net.parse_count("120") == 120
    assert net.parse_count(" 7 ") == 7
    for text in ("\u00b2", "\u0661", "1.5", "-1", "", None, "1e3"):
        assert net.parse_count(text) is None
    assert net.parse_count("9" * 5000) == 10**18  # clamped, not int() past the digit limit


def test_sha256sums_lookup() -> None:
    text = f"{'cd' * 32}  voxtral-1.1.0.tar.gz\n{HEX} *voxtral-1.1.0-py3-none-any.whl\njunk\n"
    assert parse_sha256sums(text, "voxtral-1.1.0-py3-none-any.whl") == HEX
    assert parse_sha256sums(text, "missing.whl") is None


def test_retry_time_follows_github_rules() -> None:
    now = 1_000_000.0
    hour = now + 3600
    assert retry_time(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(hour))},
                      now) == hour
    assert retry_time(429, {"retry-after": "120"}, now) == now + 120
    assert retry_time(429, {}, now) == now + 60
    assert retry_time(403, {}, now) is None
    assert retry_time(200, {"x-ratelimit-remaining": "59"}, now) is None
    far = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now + 10**9))}
    assert retry_time(403, far, now) == now + MAX_WAIT
    # '²'.isdigit() is True but int('²') raises: such headers count as unreadable.
    assert retry_time(429, {"retry-after": "\u00b2"}, now) == now + 60
    assert retry_time(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "\u00b2"},
                      now) == now + 60
    assert retry_time(429, {"retry-after": "9" * 5000}, now) == now + MAX_WAIT


def test_url_policy_allows_http_only_at_an_http_api_origin() -> None:
    https_api = net.UrlPolicy("https://api.github.com")
    assert https_api.allowed("https://objects.githubusercontent.com/x")
    assert not https_api.allowed("http://api.github.com/x")
    local = net.UrlPolicy("http://127.0.0.1:8080")
    assert local.allowed("http://127.0.0.1:8080/dl/x.whl")
    assert not local.allowed("http://127.0.0.1:8081/dl/x.whl")
    assert not local.allowed("http://localhost:8080/dl/x.whl")
    assert not local.allowed("ftp://127.0.0.1:8080/x")
    assert local.allowed("https://elsewhere.example/x")


def _raw(tag: str, **extra: object) -> dict:
    return {"tag_name": tag, "name": f"Voxtral {tag}", "html_url": "https://github.com/o/r",
            "draft": False, "prerelease": False, "assets": [], **extra}


def test_pick_release_on_each_channel() -> None:
    releases = [_raw("v1.1.0"), _raw("v2.0.0", draft=True), _raw("v1.2.0rc1", prerelease=True),
                _raw("latest"), _raw("v1.1.5")]
    assert pick_release(releases, "prerelease")["tag_name"] == "v1.2.0rc1"
    assert pick_release(releases, "stable")["tag_name"] == "v1.1.5"
    assert pick_release([], "prerelease") is None


def test_evaluate_marks_dismissed_and_hides_prerelease_on_stable() -> None:
    rel = normalize_release(_raw("v1.1.0"))
    assert evaluate(rel, "1.0.0", "stable", ["1.1.0"])["dismissed"] is True
    pre = normalize_release(_raw("v1.1.0", prerelease=True))
    assert evaluate(pre, "1.0.0", "stable", [])["update_available"] is False
    assert evaluate(pre, "1.0.0", "prerelease", [])["update_available"] is True
