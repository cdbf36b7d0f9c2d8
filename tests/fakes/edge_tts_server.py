"""A fake of Edge's read-aloud websocket service, enough of the protocol for edge-tts.

The client sends ``Path:speech.config`` then ``Path:ssml``; the fake answers
``Path:turn.start``, binary ``Path:audio`` frames (2-byte header length, headers, MP3 bytes)
and ``Path:turn.end``. The MP3 is a real sine lasting 20 ms per character of the spoken text.

Behaviour per connection comes from ``script`` (consumed in order), else ``mode``:
``ok``; a status such as ``429`` / ``503`` (refuse the websocket handshake); ``drop`` (close
after the SSML arrives, before any audio); ``hang`` (never answer). ``delay`` slows answers.
"""
from __future__ import annotations

import asyncio
import html
import re
import threading
import time
from dataclasses import dataclass

from .audio import seconds_for, sine_mp3

_TEXT = re.compile(r"<prosody pitch='([^']*)' rate='([^']*)' volume='[^']*'>(.*)</prosody>", re.S)
_VOICE = re.compile(r"<voice name='([^']*)'>")


@dataclass(frozen=True)
class Request:
    at: float
    text: str
    voice: str
    rate: str
    pitch: str
    behaviour: str


class FakeEdgeTTS:
    def __init__(self, *, delay: float = 0.0, mode: str = "ok"):
        self.delay, self.mode = delay, mode
        self.script: list[str] = []
        self.requests: list[Request] = []
        self.connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner = None
        self._started = threading.Event()
        self.port = 0

    @property
    def wss_url(self) -> str:
        """Drop-in for ``edge_tts.communicate.WSS_URL``."""
        return f"ws://127.0.0.1:{self.port}/edge/v1?TrustedClientToken=test"

    def texts(self) -> list[str]:
        return [r.text for r in self.requests if r.behaviour == "ok"]

    def start(self) -> "FakeEdgeTTS":
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("fake edge service did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    async def _shutdown(self) -> None:
        await self._runner.cleanup()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ serving
    def _serve(self) -> None:
        from aiohttp import web

        self._loop = loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = web.Application()
        app.router.add_get("/edge/v1", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._started.set()
        loop.run_forever()
        loop.close()

    async def _handle(self, request):
        from aiohttp import WSMsgType, web

        self.connections += 1
        behaviour = self.script.pop(0) if self.script else self.mode
        if behaviour.isdigit():
            return web.Response(status=int(behaviour), text="refused")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type != WSMsgType.TEXT or "Path:ssml" not in msg.data:
                continue
            ssml = msg.data.split("\r\n\r\n", 1)[1]
            m = _TEXT.search(ssml)
            text = html.unescape(m.group(3)) if m else ""
            voice = _VOICE.search(ssml).group(1) if _VOICE.search(ssml) else ""
            self.requests.append(Request(time.monotonic(), text, voice, m.group(2) if m else "",
                                         m.group(1) if m else "", behaviour))
            if behaviour == "drop":
                await ws.close()
                break
            if behaviour == "hang":
                await asyncio.sleep(60)
                break
            if self.delay:
                await asyncio.sleep(self.delay)
            await self._answer(ws, text)
        return ws

    async def _answer(self, ws, text: str) -> None:
        rid = "X-RequestId:fake\r\n"
        await ws.send_str(f"{rid}Content-Type:application/json; charset=utf-8\r\nPath:turn.start\r\n\r\n{{}}")
        mp3 = sine_mp3(round(seconds_for(text), 3))
        head = f"{rid}Content-Type:audio/mpeg\r\nX-StreamId:fake\r\nPath:audio\r\n".encode()
        for i in range(0, len(mp3), 4096):
            await ws.send_bytes(len(head).to_bytes(2, "big") + head + mp3[i:i + 4096])
        await ws.send_str(f"{rid}Content-Type:application/json; charset=utf-8\r\nPath:turn.end\r\n\r\n{{}}")
