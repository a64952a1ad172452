"""What the API and its clients share: the typed answer, the interpretation, a chat turn, how each declared
format is written, and every response body the web app reads (tickets, threads, traces, accounts, health,
memory, insights, tools: one module each). Imports pydantic and Babel only, so the web app (ui/) can use it
and stay an HTTP client; every layer of the server may import it.
"""

from .answer import AnswerPayload, Chart, Column, ExportFile, NextAction, RecordKeys, Table, TicketRef, ActionCall
from .chat import ChatResponse, ChatToolCall, Record, StreamError, StreamStep, ThreadTurns, Turn
from .formats import Format
from .interpretation import Interpretation, InterpretationChoice, InterpretationPart

__all__ = [
    "AnswerPayload",
    "Chart",
    "ChatResponse",
    "ChatToolCall",
    "Column",
    "ExportFile",
    "Format",
    "Interpretation",
    "InterpretationChoice",
    "InterpretationPart",
    "NextAction",
    "Record",
    "RecordKeys",
    "StreamError",
    "StreamStep",
    "Table",
    "TicketRef",
    "ThreadTurns",
    "ActionCall",
    "Turn",
]
