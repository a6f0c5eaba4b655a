"""An OpenAI-compatible API (/v1/models, /v1/chat/completions), so any OpenAI client can use kvisa as a model."""

from __future__ import annotations

import base64
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from ingest.documents import IngestError
from kvisa.settings import Settings
from rag.export import answer_json, answer_markdown
from rag.types import Answer, BackendUnavailable, Turn

MODEL = "kvisa"
BACKENDS = ("extractive", "llamacpp", "openai")
MAX_BODY = 4_000_000  # bytes: a long conversation fits; a flood is refused before it is read
STREAM_PIECE_WORDS = 4  # words per streamed chunk: small enough to look live, few enough to be cheap


class Message(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        """The message's text; content parts other than text (images, files) are not read."""
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model: str = MODEL
    messages: list[Message] = Field(default_factory=list)
    stream: bool = False
    top_k: int | None = Field(None, ge=1, le=30, description="kvisa extension: passages to retrieve")


class ApiError(Exception):
    """An error in OpenAI's shape: {"error": {"message", "type"}} with an HTTP status."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind

    def response(self) -> JSONResponse:
        return JSONResponse({"error": {"message": self.message, "type": self.kind, "code": None}}, self.status)


def conversation(messages: list[Message]) -> tuple[str, list[Turn]]:
    """The last user message is the question; earlier user/assistant pairs are the conversation, as in the
    chat. System messages are not instructions to kvisa: it answers from the corpus only."""
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users or not messages[users[-1]].text.strip():
        raise ApiError(400, "the last user message (the question) is empty")
    history: list[Turn] = []
    for i, message in enumerate(messages[: users[-1]]):
        if message.role == "user":
            reply = next((m.text for m in messages[i + 1 : users[-1]] if m.role == "assistant"), "")
            history.append(Turn(message.text, reply))
    return messages[users[-1]].text.strip(), history


def backend_of(model: str) -> str | None:
    """"kvisa" is the default backend; "kvisa-llamacpp" names one."""
    if model == MODEL:
        return None
    name = model.removeprefix(f"{MODEL}-")
    if name not in BACKENDS or not model.startswith(f"{MODEL}-"):
        raise ApiError(404, f"unknown model {model!r}; GET /v1/models lists them", "not_found_error")
    return name


def completion(answer: Answer, model: str) -> dict[str, Any]:
    """A chat.completion object; the `kvisa` field carries the structured citations and the refused flag."""
    text = answer_markdown(answer)
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(answer.question.split()), "completion_tokens": len(text.split()),
                      "total_tokens": len(answer.question.split()) + len(text.split())},
            "kvisa": _extension(answer)}


def _extension(answer: Answer) -> dict[str, Any]:
    data = answer_json(answer)
    return {k: data[k] for k in ("citations", "refused", "table", "confidence", "backend")}


def chunks(answer: Answer, model: str) -> Iterator[str]:
    """Server-sent events of chat.completion.chunk objects, then [DONE]. The text is sent once the answer is
    verified, so a client never shows a sentence that verification would have dropped."""
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    words = answer_markdown(answer).split(" ")
    for i in range(0, len(words), STREAM_PIECE_WORDS):
        piece = " ".join(words[i : i + STREAM_PIECE_WORDS])
        yield event({"content": piece if i == 0 else f" {piece}"})
    yield event({}, "stop", kvisa=_extension(answer))
    yield "data: [DONE]\n\n"


def authorised(header: str | None, credentials: tuple[str, str] | None) -> bool:
    """With a password set (KVISA_AUTH), a request needs it: as the API key ("Bearer password" or
    "Bearer user:password", what OpenAI clients send) or as HTTP basic auth."""
    if credentials is None:
        return True
    user, password = credentials
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() == "bearer":
        return any(hmac.compare_digest(value.strip(), s) for s in (password, f"{user}:{password}"))
    if scheme.lower() == "basic":
        try:
            given = base64.b64decode(value.strip()).decode("utf-8")
        except ValueError:
            return False
        return hmac.compare_digest(given, f"{user}:{password}")
    return False


def openai_router(settings: Settings, assistant: Callable[[], Any], credentials: tuple[str, str] | None,
                  available: Callable[[], list[str]]) -> APIRouter:
    """The /v1 routes. `assistant` gives the shared Assistant (loaded once); `available` the usable backends."""
    router = APIRouter(prefix="/v1")
    lock = threading.Lock()  # one answer at a time, as in the chat: the indexes are shared

    def guard(authorization: str | None) -> None:
        if not authorised(authorization, credentials):
            raise ApiError(401, "a valid API key is required (the KVISA_AUTH password)", "authentication_error")

    @router.get("/models")
    def models(authorization: str | None = Header(None)) -> Any:
        try:
            guard(authorization)
        except ApiError as exc:
            return exc.response()
        names = [MODEL, *(f"{MODEL}-{b}" for b in available())]
        return {"object": "list", "data": [{"id": n, "object": "model", "created": 0, "owned_by": "kvisa"}
                                           for n in names]}

    @router.post("/chat/completions")
    async def chat_completions(http: Request, authorization: str | None = Header(None)) -> Any:
        try:
            guard(authorization)
            if int(http.headers.get("content-length") or 0) > MAX_BODY:
                raise ApiError(413, f"the request is larger than {MAX_BODY // 1_000_000} MB")
            request = parse_request(await http.body())
        except ApiError as exc:
            return exc.response()
        return await run_in_threadpool(answer_request, request)

    def answer_request(request: ChatRequest) -> Any:
        try:
            question, history = conversation(request.messages)
            backend = backend_of(request.model)
            with lock:
                answer = ask(assistant(), question, history, backend, request.top_k)
        except ApiError as exc:
            return exc.response()
        if request.stream:
            return StreamingResponse(chunks(answer, request.model), media_type="text/event-stream")
        return completion(answer, request.model)

    return router


def parse_request(body: bytes) -> ChatRequest:
    """The request body as a ChatRequest, or a 400 that says in one line what is wrong with it (FastAPI's own
    validation would answer 422 with a nested list, which OpenAI clients do not show)."""
    try:
        data = json.loads(body or b"null")
    except ValueError as exc:
        raise ApiError(400, f"the request body is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object with \"model\" and \"messages\"")
    try:
        request = ChatRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(400, f"invalid request: {where}: {first['msg']}") from None
    if not request.messages:
        raise ApiError(400, "invalid request: \"messages\" is empty")
    return request


def ask(assistant: Any, question: str, history: list[Turn], backend: str | None, top_k: int | None) -> Answer:
    try:
        return assistant.ask(question, history=history, backend=backend, top_k=top_k)
    except BackendUnavailable as exc:
        raise ApiError(503, str(exc), "backend_unavailable") from None
    except IngestError as exc:  # the store is unreachable: one line, as everywhere else
        raise ApiError(503, str(exc), "store_unavailable") from None


def api_app(settings: Settings, credentials: tuple[str, str] | None) -> FastAPI:
    """The API alone, for `kvisa serve` (no web page)."""
    from rag.assistant import get_assistant

    app = FastAPI(title="kvisa", docs_url=None, redoc_url=None)

    def assistant() -> Any:
        return get_assistant(settings)

    app.include_router(openai_router(settings, assistant, credentials, lambda: assistant().available_backends()))
    return app
