"""Where the sign-in page goes next (server/session.py local_path): a path on this server, read the
way a browser reads it, so that no `next` can send a signed-in browser to another site."""

from __future__ import annotations

import pytest

from server.session import PLAYGROUND, local_path


@pytest.mark.parametrize(
    "target, goes_to",
    [
        ("/agent/playground/", "/agent/playground/"),
        ("/docs", "/docs"),
        ("/tickets?status=open#top", "/tickets?status=open#top"),
        ("/a:b", "/a:b"),  # a colon in a path is no scheme
        ("/threads?next=https://evil.example/", "/threads?next=https://evil.example/"),  # only the path counts
        ("  /docs ", "/docs"),  # spaces at the ends go, as a browser trims them
        ("/do\tcs", "/docs"),  # a browser drops tab, CR, LF anywhere: so does this
        ("/redoc\n", "/redoc"),
    ],
)
def test_a_path_on_this_server_is_kept(target, goes_to):
    assert local_path(target) == goes_to


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example/x",
        "/\t/evil.example/x",  # the browser strips the tab: //evil.example/x
        "/\n/evil.example/x",
        "/\r/evil.example/x",
        "/\r\n\t/evil.example/x",
        "\t//evil.example/x",
        "/\\evil.example/x",  # a backslash is a slash to a browser: //evil.example/x
        "\\\\evil.example/x",
        "\\/evil.example/x",
        "https://evil.example/x",
        "http:/evil.example/x",
        "HTTPS://evil.example",
        "javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "evil.example/x",
        "x",
        "/do\x00cs",
        "/docs\x7f",
        "/\x0b/evil.example",
        " //evil.example",
    ],
)
def test_anything_else_goes_to_the_playground(target):
    assert local_path(target) == PLAYGROUND
