"""The README's picture: a browser student next to an SSH student, in one class.

A real ``bptui serve --web`` with a teacher (over SSH) who takes a few steps; a
student in headless Chromium (the page as served) and a student over SSH
(asyncssh) follow. The browser student's tab is photographed as it is; the SSH
student's terminal output, byte for byte as their ssh received it, is drawn by
xterm.js beside it, each under a title bar saying which is which.

Usage: python bench/screenshot_web.py [OUT.png]   (default docs/browser-and-ssh.png)
"""

from __future__ import annotations

import asyncio
import base64
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser_client import Browser, why_no_browser
from serve_client import Server, Student
from web_client import web_url

ROOT = Path(__file__).resolve().parent.parent

VENDOR = ROOT / "bptui" / "serve" / "webpage" / "vendor"
COLS, ROWS = 100, 30

HTML = """<!doctype html><html><body style="margin:0;background:#e8e8e8;font:14px sans-serif">
<div id="both" style="display:flex;gap:24px;padding:24px;align-items:flex-start">
 <figure style="margin:0;border:1px solid #aaa;border-radius:8px;overflow:hidden;background:#fff">
  <div style="padding:8px 12px;background:#f3f3f3;border-bottom:1px solid #ccc">
   <span style="background:#fff;border:1px solid #ccc;border-radius:12px;padding:2px 12px">
    http://lab-server:8080/</span>&nbsp; a student in a browser</div>
  <img id="tab" style="display:block">
 </figure>
 <figure style="margin:0;border:1px solid #555;border-radius:8px;overflow:hidden;background:#000">
  <div style="padding:8px 12px;background:#333;color:#eee">bo@laptop: ssh -p 2222 lab-server</div>
  <div id="ssh" style="padding:2px"></div>
 </figure>
</div></body></html>"""


async def main(out: Path) -> None:
    reason = why_no_browser()
    if reason:
        raise SystemExit(reason)
    with tempfile.TemporaryDirectory(prefix="bptui-shot-") as tmp:
        server = Server(Path(tmp), "--web", "0", "--teacher-password", "chalk")
        browser = await Browser.start()
        try:
            teacher = await Student.join(server.port, "teacher", "chalk", width=COLS, height=ROWS)
            await teacher.wait_for(lambda t: "Epoch 1/100" in t, 60)
            page = await browser.open(web_url(server.banner), width=1000, height=620)
            await page.join("ann")
            await page.wait_for(lambda t: "following" in t, 60)
            cols, rows = await page.size()
            ssh = await Student.join(server.port, "bo", width=cols, height=rows)
            await ssh.wait_for(lambda t: "following" in t, 60)
            for key in "    ":
                await teacher.press(key)
                await asyncio.sleep(0.3)
            await teacher.wait_for(lambda t: "BWD 1/3" in t or "BACKWARD 1/3" in t)
            await page.wait_for(lambda t: "∂ -2" in t or "BACKWARD 1/3" in t)
            await ssh.wait_for(lambda t: "BACKWARD 1/3" in t or "BWD 1/3" in t)
            await asyncio.sleep(1.0)  # the last frames drawn
            tab = Path(tmp) / "tab.png"
            await page.screenshot(tab)
            raw = base64.b64encode(bytes(ssh.raw)).decode()
            shown = base64.b64encode(tab.read_bytes()).decode()
            composer = await browser.open("about:blank", width=2200, height=800)
            await browser.call(
                "compose",
                page=composer.id,
                html=HTML,
                styles=[str(VENDOR / "xterm.css")],
                scripts=[str(VENDOR / "xterm.js")],
                js=f"""new Promise((done) => {{
                  document.getElementById('tab').src = 'data:image/png;base64,{shown}';
                  const term = new Terminal({{cols: {cols}, rows: {rows}, fontSize: 15,
                    fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace'}});
                  term.open(document.getElementById('ssh'));
                  const bytes = Uint8Array.from(atob('{raw}'), (c) => c.charCodeAt(0));
                  term.write(bytes, () => setTimeout(done, 500));
                }})""",
            )
            await browser.call("shoot", page=composer.id, selector="#both", path=str(out))
            teacher.close()
            ssh.close()
        finally:
            await browser.close()
            server.stop()
    print(f"written {out}")


if __name__ == "__main__":
    asyncio.run(
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "browser-and-ssh.png")
    )
