"""The web chat: one page and its static files, served with a strict Content-Security-Policy."""

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "static"

# Scripts, styles, connections and images from this origin only; no inline script, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidate (ETag), so an upgraded server serves its new page
}
router = APIRouter(include_in_schema=False)


@router.get("/")
def show_chat_page() -> FileResponse:
    return FileResponse(STATIC / "index.html")


def mount_static_files(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


async def add_page_headers(request: Request, call_next):
    response = await call_next(request)
    for name, value in PAGE_HEADERS.items():  # a page with its own policy (/docs) keeps it
        response.headers.setdefault(name, value)
    return response
