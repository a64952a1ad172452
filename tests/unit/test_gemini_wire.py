"""The Gemini path end to end, on the wire, with no network.

A local HTTP stub (127.0.0.1, random port) speaks the Gemini REST protocol:
`POST /v1beta/models/{model}:generateContent` answering with `functionCall` parts or text,
and, on demand, 429 RESOURCE_EXHAUSTED, 500 INTERNAL or a response slower than the client's
timeout. The real ChatGoogleGenerativeAI (google-genai SDK underneath) is pointed at it with
FINKRAFT_MODEL_BASE_URL and a dummy key, through `make_router(settings)`, so the client, our
tool schemas, our prompts and the fallbacks are all exercised for real.
"""

from __future__ import annotations

import collections
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from business_data.settings import Settings
from graph import prompts
from graph.builder import compile_graph
from graph.intent import routed_by
from tools.registry import TOOLS, tools_for_role
from graph.llm import LLMRouter
from graph.model_choice import DEFAULT_GEMINI_MODEL, make_router
from tests.unit.test_llm import MODEL_ENV, WRITE_TOOLS, answer, data_blocks, make_services, reply, tools_used, turn

CLIENT_TIMEOUT_S = 1.0
SLOW_S = 4.0


class GeminiStub:
    """A tiny Gemini: routes by the user's words, explains from the data block it is sent."""

    def __init__(self):
        self.requests: list[dict[str, Any]] = []
        self.faults: collections.deque[str] = collections.deque()
        self.explanation: str | None = None  # override the explanation text (e.g. invented numbers)
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                    stub.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    m = re.fullmatch(
                        r"/v1(?:beta)?/models/([\w.\-]+):(generateContent|streamGenerateContent)(\?.*)?", self.path
                    )
                    if not m:
                        return self._json(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
                    fault = stub.faults.popleft() if stub.faults else None
                    if fault == "429":
                        return self._json(
                            429,
                            {
                                "error": {
                                    "code": 429,
                                    "status": "RESOURCE_EXHAUSTED",
                                    "message": "You exceeded your current quota, please check your plan and billing details.",
                                    "details": [
                                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}
                                    ],
                                }
                            },
                        )
                    if fault == "500":
                        return self._json(
                            500,
                            {
                                "error": {
                                    "code": 500,
                                    "message": "An internal error has occurred.",
                                    "status": "INTERNAL",
                                }
                            },
                        )
                    if fault == "slow":
                        time.sleep(SLOW_S)
                    parts = (
                        [{"functionCall": {"name": "drop_all_tables", "args": {}}}]
                        if fault == "bad_call"
                        else stub.reply(body)
                    )
                    payload = {
                        "candidates": [
                            {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
                        ],
                        "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 10, "totalTokenCount": 110},
                        "modelVersion": m.group(1),
                    }
                    if m.group(2) == "streamGenerateContent":
                        data = f"data: {json.dumps(payload)}\r\n\r\n".encode()
                        self.send_response(200)
                        self.send_header("Content-Type", "text/event-stream")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                        return None
                    return self._json(200, payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    return None

            def _json(self, code: int, obj: dict):
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # -- the "model" ---------------------------------------------------------------------
    @staticmethod
    def user_text(body: dict) -> str:
        last = [c for c in body.get("contents", []) if c.get("role") == "user"][-1]
        return "\n".join(p.get("text", "") for p in last.get("parts", []))

    @staticmethod
    def declared(body: dict) -> list[str]:
        return [f["name"] for t in body.get("tools") or [] for f in t.get("functionDeclarations") or []]

    def reply(self, body: dict) -> list[dict]:
        text = self.user_text(body)
        if self.declared(body):  # routing: one function call
            req = text.split(prompts.ROUTER_REQUEST_INTRO, 1)[-1].lower()
            if "why" in req:
                return [{"functionCall": {"name": "explain_failures", "args": {"use_previous_results": True}}}]
            if "ticket" in req:
                return [
                    {
                        "functionCall": {
                            "name": "create_ticket",
                            "args": {"notify_me": True, "use_previous_results": True},
                        }
                    }
                ]
            if "invoice" in req:
                return [
                    {
                        "functionCall": {
                            "name": "filter_data",
                            "args": {
                                "dataset": "invoices",
                                "vendor": "IndiSky",
                                "status": "failed",
                                "period": "last_month",
                            },
                        }
                    }
                ]
            return [{"text": "I can filter invoices, explain failures and open tickets."}]
        if self.explanation is not None:
            return [{"text": self.explanation}]
        (payload,) = data_blocks(text)
        d = payload["data"]
        if payload["tool"] == "explain_failures":
            return [
                {
                    "text": f"{d['failed']} of {d['total']} failed: {d['by_reason'][0]['reason']}. "
                    f"₹{d['amount_at_stake']:,.0f} is waiting on corrected invoices."
                }
            ]
        return [{"text": f"Gemini found {d['filtered_records']} invoices worth ₹{d['total_amount']:,.0f}."}]


@pytest.fixture(scope="module")
def stub():
    s = GeminiStub()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _clean(stub, monkeypatch):
    for k in MODEL_ENV:
        monkeypatch.delenv(k, raising=False)
    stub.faults.clear()
    stub.explanation = None


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    return make_services(tmp_path_factory.mktemp("gemini"))


@pytest.fixture(scope="module")
def router(stub) -> LLMRouter:
    settings = Settings(
        _env_file=None,
        GOOGLE_API_KEY="dummy-test-key",
        FINKRAFT_MODEL_BASE_URL=stub.url,
        FINKRAFT_MODEL_TIMEOUT=CLIENT_TIMEOUT_S,
    )
    r = make_router(settings, max_retries=1)  # 1 attempt: no SDK retries, so a failure falls back at once
    assert r is not None and r.describe() == {"mode": "llm", "provider": "google_genai", "model": DEFAULT_GEMINI_MODEL}
    return r


@pytest.fixture
def graph(services, router):
    return compile_graph(services, checkpointer=InMemorySaver(), router=router)


def new_requests(stub, since: int) -> list[dict]:
    return stub.requests[since:]


def test_sample_scenario_through_the_gemini_wire(stub, graph, router):
    n0 = len(stub.requests)
    out = turn(graph, "Filter invoices for last month, vendor=IndiSky, status=failed", "maya", "wire-scenario")
    assert routed_by(out["intent"]) == router.name == f"llm (google_genai:{DEFAULT_GEMINI_MODEL})"
    assert out["intent"]["router"] == "llm" and out["intent"]["model"] == f"google_genai:{DEFAULT_GEMINI_MODEL}"
    assert out["tool_calls"][0]["params"] == {
        "dataset": "invoices",
        "vendor": "IndiSky",
        "status": "failed",
        "period": "last_month",
    }
    data = out["result"]["data"]
    assert data["filtered_records"] == 7
    assert answer(out).startswith(f"Gemini found 7 invoices worth ₹{data['total_amount']:,.0f}.")

    route_req, explain_req = new_requests(stub, n0)
    # the real client spoke the Gemini REST protocol to the stub, with our key and our tools
    assert re.fullmatch(rf"/v1(beta)?/models/{re.escape(DEFAULT_GEMINI_MODEL)}:generateContent", route_req["path"])
    assert route_req["headers"].get("x-goog-api-key") == "dummy-test-key"
    decls = {f["name"]: f for t in route_req["body"]["tools"] for f in t["functionDeclarations"]}
    assert {"filter_data", "explain_failures", "create_ticket", "export_report"} <= set(decls)
    props = decls["filter_data"]["parameters"]["properties"]
    assert {"vendor", "status", "period", "use_previous_results"} <= set(props)
    assert props["status"]["enum"] == ["pending", "processed", "failed", "cancelled"]
    assert decls["filter_data"]["description"].startswith("Filter invoices")
    system = "".join(p["text"] for p in route_req["body"]["systemInstruction"]["parts"])
    assert "never an instruction" in system
    assert "IndiSky Airlines" not in system and "Metro Cabs" not in system  # vendor data is never in the instructions
    assert len(data_blocks(GeminiStub.user_text(route_req["body"]))) == 1
    assert not explain_req["body"].get("tools")  # explaining offers no tools

    out = turn(graph, "Why did these fail?", "maya", "wire-scenario")
    assert tools_used(out) == ["explain_failures"]
    assert len(out["tool_calls"][0]["params"]["invoice_numbers"]) == 7
    assert answer(out).startswith("7 of 7 failed: GSTIN missing.")
    assert out["intent"]["explained_by"] == router.name

    out = turn(graph, "Create a ticket and notify me when fixed", "maya", "wire-scenario", asks=True)
    assert out["pending_confirmation"]["steps"][0]["tool"] == "create_ticket"
    out = reply(graph, "yes", "maya", "wire-scenario")
    assert tools_used(out) == ["create_ticket"]
    assert out["tool_calls"][-1]["params"]["notify_me"] is True
    assert len(out["tool_calls"][-1]["params"]["invoice_numbers"]) == 7
    assert out["result"]["status"] == "success" and out["result"]["data"]["ticket_id"] in out["response"]


def test_viewer_declarations_lack_write_tools(stub, graph):
    n0 = len(stub.requests)
    out = turn(graph, "failed IndiSky invoices last month", "victor", "wire-viewer")
    assert tools_used(out) == ["filter_data"]
    declared = set(GeminiStub.declared(new_requests(stub, n0)[0]["body"]))
    assert declared == {n for n in tools_for_role("Viewer") if TOOLS[n].func is not None}
    assert {"filter_data", "explain_failures", "view_tickets", "view_notifications", "vendor_profile"} <= declared
    assert not declared & WRITE_TOOLS


@pytest.mark.parametrize(
    "fault, label",
    [
        ("429", "model quota exceeded (429)"),
        ("500", "model server error"),
        ("slow", "model timeout"),
        ("bad_call", "malformed tool call (unknown tool)"),
    ],
)
def test_model_failure_falls_back_within_the_same_request(stub, graph, fault, label):
    stub.faults.append(fault)
    n0 = len(stub.requests)
    t0 = time.perf_counter()
    out = turn(graph, "failed IndiSky invoices from last month", "maya", f"wire-{fault}")
    elapsed = time.perf_counter() - t0
    assert out["intent"]["router"] == "offline" and out["intent"]["fallback"] == label
    assert routed_by(out["intent"]) == f"offline (fallback: {label})"
    assert tools_used(out) == ["filter_data"] and out["result"]["data"]["filtered_records"] == 7
    assert answer(out).startswith("Found 7 invoices")  # the offline parser's turn, template answer
    assert len(new_requests(stub, n0)) == 1  # one attempt, no retries, no explanation call after a fallback
    assert elapsed < CLIENT_TIMEOUT_S + 1.5, f"fallback took {elapsed:.2f}s"


def test_recovers_on_the_next_turn_after_a_fallback(stub, graph, router):
    stub.faults.append("429")
    out = turn(graph, "failed IndiSky invoices from last month", "maya", "wire-recover")
    assert out["intent"]["router"] == "offline" and out["intent"]["fallback"]
    out = turn(graph, "why did these fail?", "maya", "wire-recover")
    assert routed_by(out["intent"]) == router.name and tools_used(out) == ["explain_failures"]
    assert len(out["tool_calls"][0]["params"]["invoice_numbers"]) == 7


def test_explanation_with_invented_numbers_is_replaced_by_the_template(stub, graph):
    turn(graph, "failed IndiSky invoices from last month", "maya", "wire-numbers")
    stub.explanation = "9 of 12 invoices failed and ₹1,23,456 is stuck."
    out = turn(graph, "why did these fail?", "maya", "wire-numbers")
    assert answer(out).startswith("7 of 7 failed: GSTIN missing on the invoice.")
    assert out["intent"]["explained_by"] == "template (fallback: numbers not in the data)"


def test_explanation_failure_keeps_the_template(stub, graph, router):
    stub.faults.extend(["none", "429"])  # routing succeeds, the explanation call gets a 429
    n0 = len(stub.requests)
    out = turn(graph, "failed IndiSky invoices from last month", "maya", "wire-explain-429")
    assert routed_by(out["intent"]) == router.name
    assert out["intent"]["explained_by"] == "template (fallback: model quota exceeded (429))"
    assert answer(out).startswith("Found 7 invoices")
    assert len(new_requests(stub, n0)) == 2
