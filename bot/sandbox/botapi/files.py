"""Documents in the local Bot API stand-in: sendDocument (a multipart upload or a known file_id), a user's
document message (`inject_document`), getFile and the download route `{base_file_url}<token>/<file_path>`.

Part of `BotAPIHarness` (see `harness`); the server routes downloads to `serve_file`.
"""

from __future__ import annotations

import itertools
import mimetypes
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.sandbox.botapi.groups import GroupHarness
from bot.sandbox.botapi.model import ApiError, JSONDict, UploadedFile, bad_request

__all__ = ["FileHarness", "StoredFile"]

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files, as Telegram does for bots
UPLOAD_LIMIT = 50 * 1024 * 1024
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file the stand-in holds: sent by the bot or by a user."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    mime_type: str
    content: bytes

    def document_json(self) -> JSONDict:
        """The Bot API Document object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }


class FileHarness(GroupHarness):
    """sendDocument, getFile, downloads and users' documents, over the files the stand-in holds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.files: dict[str, StoredFile] = {}  # file_id -> the file

    def store_file(self, file_name: str, content: bytes, mime_type: str | None = None) -> StoredFile:
        """Keep `content` as a new file (as Telegram does for every upload) and return it."""
        n = next(_ids)
        suffix = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        guessed = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = StoredFile(
            file_id=f"BQACAgLocalDoc{n}",
            file_unique_id=f"AgADLocal{n}",
            file_path=f"documents/file_{n}.{suffix}",
            file_name=file_name,
            mime_type=guessed,
            content=content,
        )
        self.files[stored.file_id] = stored
        return stored

    # -- Bot API methods -----------------------------------------------------------------------------------

    async def send_document(self, params: JSONDict) -> JSONDict:
        chat = self.chat(params.get("chat_id"))
        self.check_can_send(chat)
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = params.get(document.removeprefix("attach://"))
        if isinstance(document, UploadedFile):
            if document.size == 0:
                raise bad_request("file must be non-empty")
            if document.size > UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            stored = self.store_file(document.filename or "document", document.content, document.content_type)
        elif isinstance(document, str) and document.strip() in self.files:
            stored = self.files[document.strip()]
        elif isinstance(document, str) and document.strip():
            raise bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise bad_request("there is no document in the request")
        parsed = self.render(params, "caption", caption=True)
        return self._store(chat, params, "document", parsed, document=stored.document_json())

    async def get_file(self, params: JSONDict) -> JSONDict:
        file_id = str(params.get("file_id") or "").strip()
        if not file_id:
            raise bad_request("file_id not specified")
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    async def serve_file(self, request: web.Request) -> web.Response:
        """GET /file/bot<token>/<file_path>: the bytes; 404 for an unknown path, 401 for a wrong token."""
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401).payload(), status=401)
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                self.requests.append(("downloadFile", {"file_path": path}))
                return web.Response(body=stored.content, content_type="application/octet-stream")
        return web.json_response(ApiError(404).payload(), status=404)

    # -- what users do -------------------------------------------------------------------------------------

    def inject_document(
        self,
        filename: str,
        content: bytes,
        *,
        user_id: int = 1001,
        chat_id: int | str | None = None,
        caption: str | None = None,
        mime_type: str | None = None,
        username: str | None = "reader",
        first_name: str = "Reader",
    ) -> int:
        """A user sends a file as a document (by default in their private chat); returns the update_id.

        The message carries `document` with file_id, file_unique_id, file_name, mime_type and file_size;
        getFile and the download route then give the bot its bytes.
        """
        stored = self.store_file(filename, content, mime_type)
        fields: JSONDict = {"document": stored.document_json()}
        if caption:
            fields["caption"] = caption
        return self._inject_user_message(
            fields,
            caption or "",
            user_id=user_id,
            chat_id=chat_id,
            username=username,
            first_name=first_name,
            chat_type="private",
            reply_to=None,
        )
