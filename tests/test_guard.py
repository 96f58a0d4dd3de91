"""The guard in front of the routes: hosts, origins, API keys, rate and body limits, request ids,
and the offline /docs. In process, except where the point is a real socket (a streamed upload)."""

import base64
import hashlib
import logging
import re
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from pydantic import ValidationError

from ingest.settings import StoreSettings
from server.api.app import create_app
from server.api.guard import principal
from server.api.problems import ConfigurationError
from server.api.routes.docs import INLINE_SCRIPT
from server.settings import ServerSettings, Settings
from tests.support import cli_env, run_cli, serving

KEY = "k-3f9a2c7e1b8d4a6f"
OTHER_KEY = "k-0c1d2e3f4a5b6c7d"
PROBLEM = "application/problem+json"
ARTICLE = b"Valdora Opens a Tidal Power Station\nThe town of Valdora opened a tidal power station on Tuesday.\n"


def guarded_app(tmp_path: Path, embedder, **server):
    """The app over an empty data directory, with these server settings (TestClient's host allowed)."""
    options = {"allowed_hosts": ["testserver"], "rate_limit_exempt": []} | server
    settings = Settings(
        store=StoreSettings(data_dir=tmp_path / ".dossier"), server=ServerSettings(**options)
    )
    app = create_app(settings, embedder)

    @app.get("/v1/whoami")
    def who_am_i(request: Request) -> dict:
        return {"principal": principal(request)}

    return app


def client_for(tmp_path, embedder, **server) -> TestClient:
    return TestClient(guarded_app(tmp_path, embedder, **server))


def assert_problem(response: httpx.Response, status: int, type_: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["type"] == type_
    return body


def upload(client: TestClient, **headers: str) -> httpx.Response:
    return client.post(
        "/v1/documents", files={"files": ("valdora.txt", ARTICLE, "text/plain")}, headers=headers
    )


# -- other sites and other host names -----------------------------------------------------------


def test_a_cross_origin_upload_is_refused_and_nothing_is_saved(tmp_path, embedder):
    with client_for(tmp_path, embedder) as client:
        response = upload(client, Origin="http://evil.example")
    body = assert_problem(response, 403, "/problems/cross-origin")
    assert "DOSSIER_CORS_ORIGINS" in body["detail"]
    uploads = tmp_path / ".dossier" / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/v1/documents/anything"), ("PUT", "/v1/documents/x"), ("PATCH", "/v1/jobs/x")],
)
def test_every_cross_origin_write_is_refused(tmp_path, embedder, method, path):
    with client_for(tmp_path, embedder) as client:
        # "null": a sandboxed frame, or a page opened from a file
        response = client.request(method, path, headers={"Origin": "null"})
    assert_problem(response, 403, "/problems/cross-origin")


def test_a_cross_site_write_without_an_origin_header_is_refused(tmp_path, embedder):
    with client_for(tmp_path, embedder) as client:
        response = client.delete("/v1/documents/anything", headers={"Sec-Fetch-Site": "cross-site"})
        same_site = client.delete(
            "/v1/documents/anything", headers={"Sec-Fetch-Site": "same-origin"}
        )
    assert_problem(response, 403, "/problems/cross-origin")
    assert same_site.status_code != 403


def test_an_upload_from_the_servers_own_page_is_accepted(tmp_path, embedder):
    with client_for(tmp_path, embedder) as client:
        response = upload(client, Origin="http://testserver")
    assert response.status_code in (201, 202), response.text  # ingested, or queued as a job


def test_a_question_from_another_origin_is_refused_too(tmp_path, embedder):
    """A foreign page may not spend this server's time on questions either; GETs stay open."""
    with client_for(tmp_path, embedder) as client:
        ask = client.post(
            "/v1/ask", json={"question": "Who?"}, headers={"Origin": "http://evil.example"}
        )
        health = client.get("/healthz", headers={"Origin": "http://evil.example"})
    assert_problem(ask, 403, "/problems/cross-origin")
    assert health.status_code == 200


def test_an_origin_listed_in_cors_origins_may_write_and_read_the_answer(tmp_path, embedder):
    origin = "https://app.example.org"
    with client_for(tmp_path, embedder, cors_origins=[origin]) as client:
        preflight = client.options(
            "/v1/documents/anything",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "DELETE",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        response = client.delete("/v1/documents/anything", headers={"Origin": origin})
        other = client.delete(
            "/v1/documents/anything", headers={"Origin": "https://other.example.org"}
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert response.status_code == 404  # past the guard: the document does not exist
    assert response.headers["access-control-allow-origin"] == origin
    assert_problem(other, 403, "/problems/cross-origin")


def test_a_refused_preflight_is_a_problem(tmp_path, embedder):
    with client_for(tmp_path, embedder, cors_origins=["https://app.example.org"]) as client:
        refused = client.options(
            "/v1/ask",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
    body = assert_problem(refused, 400, "/problems/cross-origin")
    assert "origin" in body["detail"] and "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "localhost.evil.example",
        "evil.example:8000",
        "",
        "localhost:80@evil.example",
    ],
)
def test_a_foreign_host_header_is_refused(tmp_path, embedder, host):
    """DNS rebinding: a name the attacker controls, pointed at 127.0.0.1, reaches the server."""
    with client_for(tmp_path, embedder, allowed_hosts=[]) as client:
        response = client.get("/v1/documents", headers={"Host": host})
    body = assert_problem(response, 400, "/problems/host-not-allowed")
    assert "DOSSIER_ALLOWED_HOSTS" in body["detail"]


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST", "10.1.2.3:80"],
)
def test_the_default_hosts_are_the_localhost_names_and_the_bind_address(
    tmp_path, embedder, monkeypatch, host
):
    monkeypatch.delenv("DOSSIER_ALLOWED_HOSTS", raising=False)
    settings = Settings(
        store=StoreSettings(data_dir=tmp_path / ".dossier"), server=ServerSettings(host="10.1.2.3")
    )
    assert settings.server.allowed_hosts == []
    with TestClient(create_app(settings, embedder)) as client:
        assert client.get("/healthz", headers={"Host": host}).status_code == 200
        assert client.get("/healthz", headers={"Host": "testserver"}).status_code == 400


def test_allowed_hosts_take_wildcards(tmp_path, embedder):
    with client_for(tmp_path, embedder, allowed_hosts=["*.example.org"]) as client:
        assert client.get("/healthz", headers={"Host": "dossier.example.org"}).status_code == 200
        assert (
            client.get("/healthz", headers={"Host": "example.org.evil.example"}).status_code == 400
        )
    with client_for(tmp_path, embedder, allowed_hosts=["*"]) as client:
        assert client.get("/healthz", headers={"Host": "anything.example"}).status_code == 200


def test_loopback_names_stay_allowed_beside_the_listed_hosts(tmp_path, embedder):
    """A container's health check asks http://127.0.0.1 whatever DOSSIER_ALLOWED_HOSTS says."""
    with client_for(tmp_path, embedder, allowed_hosts=["dossier.example.org"]) as client:
        for host in ("127.0.0.1:8000", "localhost", "dossier.example.org"):
            assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
        assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400


def test_allowed_hosts_and_cors_origins_are_read_comma_separated(monkeypatch):
    monkeypatch.setenv("DOSSIER_ALLOWED_HOSTS", " dossier.example.org, localhost ")
    monkeypatch.setenv("DOSSIER_CORS_ORIGINS", "https://a.example,https://b.example")
    settings = ServerSettings()
    assert settings.allowed_hosts == ["dossier.example.org", "localhost"]
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


# -- API keys -----------------------------------------------------------------------------------


def test_with_keys_a_write_needs_one(tmp_path, embedder):
    with client_for(tmp_path, embedder, api_keys=f"{KEY},{OTHER_KEY}") as client:
        missing = upload(client)
        wrong = upload(client, Authorization="Bearer not-a-key")
        bearer = client.delete("/v1/documents/anything", headers={"Authorization": f"Bearer {KEY}"})
        header = client.delete("/v1/documents/anything", headers={"X-API-Key": OTHER_KEY})
        read = client.get("/v1/whoami")
    for refused in (missing, wrong):
        assert_problem(refused, 401, "/problems/unauthorized")
        assert refused.headers["www-authenticate"] == 'Bearer realm="dossier"'
    assert "not accepted" in wrong.json()["detail"] and KEY not in wrong.text
    assert bearer.status_code == header.status_code == 404  # let in: no such document
    assert read.status_code == 200  # reads stay open unless DOSSIER_AUTH_READS
    assert not (tmp_path / ".dossier" / "uploads").exists()


def test_auth_reads_closes_every_v1_route_but_not_the_page_health_or_docs(tmp_path, embedder):
    with client_for(tmp_path, embedder, api_keys=KEY, auth_reads=True) as client:
        for path in ("/v1/documents", "/v1/search?q=x", "/v1/jobs/x", "/metrics"):
            assert_problem(client.get(path), 401, "/problems/unauthorized")
        assert_problem(
            client.post("/v1/ask", json={"question": "Who?"}), 401, "/problems/unauthorized"
        )
        for path in ("/", "/healthz", "/docs", "/redoc", "/openapi.json", "/static/js/api.js"):
            assert client.get(path).status_code == 200, path
        assert client.get("/readyz").status_code == 503  # open: the index is empty
        assert (
            client.get("/v1/whoami", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
        )


def test_the_openai_routes_refuse_in_openais_error_shape(tmp_path, embedder):
    with client_for(tmp_path, embedder, api_keys=KEY, auth_reads=True) as client:
        models = client.get("/v1/models")
        completion = client.post(
            "/v1/chat/completions",
            json={"model": "dossier", "messages": []},
            headers={"Authorization": "Bearer wrong"},
        )
    for response in (models, completion):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == 'Bearer realm="dossier"'


def test_the_principal_names_the_key_without_revealing_it(tmp_path, embedder):
    with client_for(tmp_path, embedder, api_keys=f"{KEY},{OTHER_KEY}") as client:
        keyed = client.get("/v1/whoami", headers={"X-API-Key": OTHER_KEY}).json()["principal"]
        anonymous = client.get("/v1/whoami").json()["principal"]
    assert keyed == "key-" + hashlib.sha256(OTHER_KEY.encode()).hexdigest()[:8]
    assert anonymous == "anonymous"
    with client_for(tmp_path, embedder) as client:  # no keys configured: a key sent is ignored
        assert (
            client.get("/v1/whoami", headers={"X-API-Key": KEY}).json()["principal"] == "anonymous"
        )


def test_keys_never_reach_the_log(tmp_path, embedder, caplog):
    caplog.set_level(logging.DEBUG)
    with client_for(tmp_path, embedder, api_keys=KEY) as client:
        client.delete("/v1/documents/x", headers={"Authorization": f"Bearer {KEY}"})
        client.delete("/v1/documents/x", headers={"X-API-Key": KEY + "-wrong"})
    assert "DELETE /v1/documents/x 401" in caplog.text  # the request log line is there ...
    assert KEY not in caplog.text  # ... without the key, right or wrong


def test_keys_are_read_from_a_file(tmp_path, embedder):
    keys = tmp_path / "keys"
    keys.write_text(f"# the team's keys\n{KEY}\n\n  {OTHER_KEY}  \n")
    with client_for(tmp_path, embedder, api_keys=f"@{keys}") as client:
        assert client.delete("/v1/documents/x", headers={"X-API-Key": OTHER_KEY}).status_code == 404
        assert (
            client.delete("/v1/documents/x", headers={"X-API-Key": "# the team's keys"}).status_code
            == 401
        )


def test_an_unreadable_key_file_stops_the_app_from_being_created(tmp_path, embedder):
    with pytest.raises(ConfigurationError, match="cannot read the key file"):
        guarded_app(tmp_path, embedder, api_keys=f"@{tmp_path / 'missing'}")
    (tmp_path / "empty").write_text("# no key yet\n")
    with pytest.raises(ConfigurationError, match="holds no key"):
        guarded_app(tmp_path, embedder, api_keys=f"@{tmp_path / 'empty'}")
    with pytest.raises(ConfigurationError, match="holds no key"):  # fails closed, like the file
        guarded_app(tmp_path, embedder, api_keys=" , ")


def test_a_key_file_saved_with_a_byte_order_mark_works(tmp_path, embedder):
    keys = tmp_path / "keys"
    keys.write_text(f"{KEY}\n", encoding="utf-8-sig")
    with client_for(tmp_path, embedder, api_keys=f"@{keys}") as client:
        assert client.delete("/v1/documents/x", headers={"X-API-Key": KEY}).status_code == 404


@pytest.mark.slow
def test_serve_with_an_unreadable_key_file_fails_with_one_line(tmp_path):
    result = run_cli(
        "serve",
        "--port",
        "1",
        env=cli_env(tmp_path / ".dossier", DOSSIER_API_KEYS="@/nonexistent/keys"),
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DOSSIER_API_KEYS" in lines[0] and "Traceback" not in result.stderr


# -- limits ---------------------------------------------------------------------------------------


async def chunks(count: int, size: int, pulled: list[int]):
    for _ in range(count):
        pulled.append(size)
        yield b" " * size


def post_async(app, path: str, content, headers: dict[str, str]) -> httpx.Response:
    """Through httpx's ASGI transport, which hands the body to the app as the app reads it."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.post(path, content=content, headers=headers)

    return anyio.run(send)


def test_a_90_mb_json_body_is_refused_before_it_is_read(tmp_path, embedder):
    app = guarded_app(tmp_path, embedder)
    pulled: list[int] = []
    size = 90 * 1024 * 1024
    headers = {"Content-Type": "application/json", "Content-Length": str(size)}
    response = post_async(app, "/v1/ask", chunks(90, 1024 * 1024, pulled), headers)
    body = assert_problem(response, 413, "/problems/body-too-large")
    assert "1024 KB" in body["detail"]
    assert sum(pulled) <= 1024 * 1024  # at most the first chunk, which the transport reads ahead


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(tmp_path, embedder):
    app = guarded_app(tmp_path, embedder, max_body_kb=64)
    pulled: list[int] = []
    response = post_async(
        app, "/v1/ask", chunks(90 * 64, 16 * 1024, pulled), {"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "/problems/body-too-large")
    assert sum(pulled) <= 64 * 1024 + 2 * 16 * 1024


def test_an_upload_may_be_larger_than_a_json_body_up_to_its_own_limit(tmp_path, embedder):
    article = ARTICLE + b"The station was built by local engineers. " * 2000  # about 90 KB
    with client_for(
        tmp_path, embedder, max_body_kb=16, max_upload_mb=0.5, max_upload_files=1
    ) as client:
        accepted = client.post(
            "/v1/documents", files={"files": ("valdora.txt", article, "text/plain")}
        )
        too_large = client.post(
            "/v1/documents", files={"files": ("big.txt", b"x" * (2 * 1024 * 1024), "text/plain")}
        )
    assert accepted.status_code in (201, 202), accepted.text
    assert_problem(too_large, 413, "/problems/body-too-large")


@pytest.mark.slow
def test_a_streamed_1_gb_upload_is_cut_off_early(tmp_path):
    """Before, the whole body was written to a temporary file before any limit applied."""
    sent = 0

    def one_gigabyte():
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n\r\n'
        chunk = b"x" * (1024 * 1024)
        while sent < 1024**3:
            sent += len(chunk)
            yield chunk
        yield b"\r\n--b--\r\n"

    env = {"DOSSIER_MAX_UPLOAD_MB": "1", "DOSSIER_MAX_UPLOAD_FILES": "2"}
    with serving(tmp_path / ".dossier", **env) as server:
        try:
            response = httpx.post(
                server.url + "/v1/documents",
                content=one_gigabyte(),
                timeout=60,
                headers={"Content-Type": "multipart/form-data; boundary=b"},
            )
            assert_problem(response, 413, "/problems/body-too-large")
        except httpx.TransportError:
            pass  # the server answered and closed the connection while the client was still writing
        assert server.process.poll() is None
        assert httpx.get(server.url + "/healthz").status_code == 200
    assert sent < 100 * 1024**2, f"{sent // 1024**2} MB were read"
    assert not any((tmp_path / ".dossier").rglob("big.txt"))


def test_a_long_or_odd_request_id_is_replaced_not_echoed_or_logged(tmp_path, embedder, caplog):
    caplog.set_level(logging.INFO)
    long_id = "a" * 8000
    with client_for(tmp_path, embedder) as client:
        replaced = client.get("/healthz", headers={"x-request-id": long_id})
        odd = client.get("/healthz", headers={"x-request-id": "id with spaces\tand tabs"})
        kept = client.get("/healthz", headers={"x-request-id": "batch-7.run_2"})
    for response in (replaced, odd):
        assert re.fullmatch(r"[0-9a-f]{12}", response.headers["x-request-id"])
    assert kept.headers["x-request-id"] == "batch-7.run_2"
    assert "a" * 65 not in caplog.text


def test_a_client_over_its_rate_gets_429_with_retry_after(tmp_path, embedder):
    with client_for(
        tmp_path, embedder, rate_limit="3/minute", write_rate_limit="1/minute"
    ) as client:
        reads = [client.get("/v1/whoami").status_code for _ in range(4)]
        writes = [client.delete("/v1/documents/x").status_code for _ in range(2)]
        health = client.get("/healthz")
    assert reads == [200, 200, 200, 429]
    assert writes == [404, 429]  # writes count apart from reads
    assert health.status_code == 200  # only /v1 is limited
    limited = client_for(tmp_path, embedder, rate_limit="1/minute")
    with limited:
        limited.get("/v1/whoami")
        response = limited.get("/v1/whoami")
    body = assert_problem(response, 429, "/problems/rate-limited")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["retry-after"] in body["detail"]


def test_guessing_keys_is_rate_limited(tmp_path, embedder):
    with client_for(tmp_path, embedder, api_keys=KEY, write_rate_limit="3/minute") as client:
        guesses = [
            client.delete("/v1/documents/x", headers={"X-API-Key": f"guess-{n}"}).status_code
            for n in range(5)
        ]
    assert guesses == [401, 401, 401, 429, 429]


def test_each_api_key_has_its_own_rate_and_exempt_addresses_none(tmp_path, embedder):
    with client_for(
        tmp_path, embedder, api_keys=f"{KEY},{OTHER_KEY}", rate_limit="1/minute"
    ) as client:
        first = client.get("/v1/whoami", headers={"X-API-Key": KEY})
        second = client.get("/v1/whoami", headers={"X-API-Key": OTHER_KEY})
        again = client.get("/v1/whoami", headers={"X-API-Key": KEY})
    assert (first.status_code, second.status_code, again.status_code) == (200, 200, 429)
    with client_for(
        tmp_path, embedder, rate_limit="1/minute", rate_limit_exempt=["testclient"]
    ) as client:
        assert {client.get("/v1/whoami").status_code for _ in range(5)} == {200}


@pytest.mark.parametrize("value", ["12/fortnight", "many"])
def test_a_malformed_rate_is_a_settings_error(value):
    with pytest.raises(ValidationError):
        ServerSettings(rate_limit=value)


def test_a_rate_of_zero_or_empty_is_unlimited(tmp_path, embedder):
    with client_for(tmp_path, embedder, rate_limit="0", write_rate_limit="") as client:
        assert {client.get("/v1/whoami").status_code for _ in range(150)} == {200}
        assert {client.delete("/v1/documents/x").status_code for _ in range(40)} == {404}


# -- /docs and /redoc offline --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_load_nothing_from_another_origin(tmp_path, embedder, path):
    with client_for(tmp_path, embedder) as client:
        page = client.get(path)
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        fetched = {asset: client.get(asset).status_code for asset in assets}
    assert page.status_code == 200
    assert not re.search(r"https?://", page.text), "an absolute URL: a CDN or another site"
    assert any(asset.endswith(".js") for asset in assets)
    assert set(fetched.values()) == {200}, fetched
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "http" not in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    for script in INLINE_SCRIPT.findall(page.text):  # each inline script is allowed by its hash
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


def test_the_schema_declares_the_api_keys_when_there_are_some(tmp_path, embedder):
    with client_for(tmp_path, embedder, api_keys=KEY) as client:
        keyed = client.get("/openapi.json").json()
    with client_for(tmp_path, embedder) as client:
        open_ = client.get("/openapi.json").json()
    assert keyed["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {} in keyed["security"]  # reads stay open unless DOSSIER_AUTH_READS
    assert "securitySchemes" not in open_.get("components", {}) and "security" not in open_
