"""Reading notifications never changes them (a GET any site can make a signed-in browser send);
marking them read is POST /notifications/read, and the old `mark_read` parameter is a 400."""

from __future__ import annotations


def notified(api) -> int:
    """A ticket of maya's that the Admin resolves: maya gets a notification. Its id."""
    r = api.maya.post("/execute_tool", json={"tool_name": "create_ticket", "params": {"title": "notify me"}})
    assert r.status_code == 200, r.text
    ticket = r.json()["data"]["ticket"]["ticket_id"]
    r = api.admin.patch(f"/tickets/{ticket}", json={"status": "resolved", "comment": "done"})
    assert r.status_code == 200, r.text
    notes = [n for n in api.maya.get("/notifications").json()["notifications"] if n["ticket_id"] == ticket]
    assert len(notes) == 1 and notes[0]["read"] is False
    return notes[0]["id"]


def read_state(api, note_id: int) -> bool:
    return next(n["read"] for n in api.maya.get("/notifications").json()["notifications"] if n["id"] == note_id)


def test_get_never_marks_read_and_the_old_parameter_is_a_400(api):
    note = notified(api)
    for params in ({"mark_read": "true"}, {"mark_read": "false"}, {"unread_only": "true", "mark_read": "1"}):
        r = api.maya.get("/notifications", params=params)
        assert r.status_code == 400, r.text
        assert r.json() == {
            "detail": "GET /notifications no longer marks anything read; send POST /notifications/read "
            "instead (and leave 'mark_read' out)."
        }
    assert api.maya.get("/notifications", params={"unread_only": "true"}).status_code == 200
    assert read_state(api, note) is False


def test_post_marks_the_callers_unread_notifications_read(api):
    note = notified(api)
    gita_before = api.gita.get("/notifications").json()["notifications"]
    r = api.maya.post("/notifications/read")
    assert r.status_code == 200 and r.json()["marked_read"] >= 1, r.text
    assert read_state(api, note) is True
    assert api.maya.get("/notifications", params={"unread_only": "true"}).json()["notifications"] == []
    assert api.maya.post("/notifications/read").json() == {"marked_read": 0}
    assert api.gita.get("/notifications").json()["notifications"] == gita_before  # only the caller's


def test_a_cross_site_post_cannot_mark_read(api):
    note = notified(api)
    cookie = api.maya.post("/auth/session").cookies.get("finkraft_session")
    r = api.anon.post(
        "/notifications/read", headers={"cookie": f"finkraft_session={cookie}", "origin": "http://evil.example"}
    )
    assert r.status_code == 403, r.text
    assert read_state(api, note) is False
    r = api.anon.post(
        "/notifications/read", headers={"cookie": f"finkraft_session={cookie}", "origin": "http://testserver"}
    )
    assert r.status_code == 200 and read_state(api, note) is True
