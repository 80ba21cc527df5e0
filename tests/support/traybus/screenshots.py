"""Pictures of the tray for its documentation, taken from the real tray on the test desktop.

    python -m tests.support.traybus.screenshots docs/tray

starts the private desktop (Xvfb + session bus), the stand-in notification
server and tray watcher, a scripted daemon, and the real `voxtral-tray`; it
puts the daemon through a transcription with a queue, a finished file, a
failure and a memory alarm, and draws what the tray put on the bus: the menu
(read over com.canonical.dbusmenu, as a panel reads it), the queue view, a
queued file's Cancel, and
each notification (as recorded by the notification server, with its buttons
as a server that draws the "default" action shows them). The test desktop has
no panel or notification daemon of its own to draw them, so they are drawn
here with Pillow in a plain style; the words, icons and buttons are the
tray's own. Rerun after changing the tray to retake them.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from tests.conftest import wait_for
from tests.support.traybus.bus_services import DesktopServices, Notify
from tests.support.traybus.dbusmenu import MenuItem, MenuReader
from tests.support.traybus.fake_daemon import FakeDaemon, current_job, job
from tests.support.traybus.session import start_desktop
from tray import icon as icon_art
from tray.view import IconLook

FONTS = Path("/usr/share/fonts/truetype/dejavu")
BG, FG, GREY, LINE = (250, 250, 250), (30, 30, 30), (150, 150, 150), (220, 220, 220)
ROW, PAD, WIDTH = 26, 12, 380


def _font(bold: bool = False, size: int = 14) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    return ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default()


def draw_menu(items: list[MenuItem], parent: int, out: Path, look: IconLook) -> None:
    """One level of the menu, as a panel would show it, under the tray icon."""
    rows = [i for i in items if i.parent == parent]
    height = PAD * 2 + 36 + sum(8 if i.separator else ROW for i in rows)
    img = Image.new("RGB", (WIDTH, height), BG)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, WIDTH, 36), fill=(45, 45, 48))
    img.paste(icon_art.render(look, 28), (WIDTH - 40, 4), icon_art.render(look, 28))
    y = 36 + PAD
    for item in rows:
        if item.separator:
            draw.line((PAD, y + 4, WIDTH - PAD, y + 4), fill=LINE)
            y += 8
            continue
        colour = FG if item.enabled else GREY
        mark = ("✓ " if item.checked else "   ") if item.checked is not None else ""
        draw.text((PAD, y + 4), mark + item.label, fill=colour, font=_font())
        if any(i.parent == item.id for i in items):
            draw.text((WIDTH - PAD - 10, y + 4), "›", fill=colour, font=_font(True))
        y += ROW
    img.save(out)


def draw_notice(note: Notify, out: Path) -> None:
    """A notification card: icon, title, body, and every button the tray sent."""
    body = textwrap.wrap(note.body, 46)
    height = PAD * 2 + 24 + 20 * len(body) + (44 if note.actions else 0)
    img = Image.new("RGB", (WIDTH + 60, height), BG)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, WIDTH + 59, height - 1), outline=LINE)
    if note.icon and Path(note.icon).exists():
        icon = Image.open(note.icon).convert("RGBA").resize((40, 40))
        img.paste(icon, (PAD, PAD), icon)
    x = PAD + 52
    draw.text((x, PAD), note.summary, fill=FG, font=_font(True))
    for n, line in enumerate(body):
        draw.text((x, PAD + 26 + 20 * n), line, fill=FG, font=_font(size=13))
    bx, by = x, height - PAD - 30
    for label in note.actions.values():
        w = int(draw.textlength(label, font=_font(size=13))) + 20
        draw.rounded_rectangle((bx, by, bx + w, by + 28), radius=5, fill=(235, 235, 235),
                               outline=LINE)
        draw.text((bx + 10, by + 6), label, fill=FG, font=_font(size=13))
        bx += w + 8
    img.save(out)


def take(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="voxtral-shots-"))
    desktop = start_desktop(tmp)
    services = DesktopServices(desktop.bus_address)
    folders = {k: str(tmp / k) for k in ("inbox", "transcripts", "processed", "failed")}
    for folder in folders.values():
        Path(folder).mkdir()
    fake = FakeDaemon(tmp / "voxtrald.sock", folders)
    transcript = Path(folders["transcripts"]) / "interview.txt"
    transcript.write_text("And so, my fellow Americans, ask not what your country can do.\n")
    fake.jobs = [job(1, "done", "interview.flac", outputs=[str(transcript)])]
    fake.jobs += [job(10 + i, "queued", f"lecture-{i}.m4a") for i in range(1, 4)]
    with fake.cond:
        fake.status["queue"].update(done=1, queued=3, failed=1)
        fake.status["state"] = "transcribing"
        fake.status["current_job"] = current_job(9, "meeting.m4a", 42.0, 190)
    config = tmp / "config.toml"
    config.write_text("[tray]\npoll_seconds = 0.5\n")
    env = desktop.env()
    env.update({"XDG_STATE_HOME": str(tmp / "state"), "XDG_CACHE_HOME": str(tmp / "cache")})
    tray = subprocess.Popen(
        [sys.executable, "-c", "from tray.app import main; raise SystemExit(main())",
         "--socket", str(fake.socket_path), "--config", str(config),
         "--state-file", str(tmp / "tray.json")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    written: list[Path] = []
    try:
        sender, path = wait_for(lambda: services.registrations()[:1], 30, "the tray item")[0]
        reader = MenuReader(desktop.bus_address, sender, path)
        items = wait_for(lambda: (m := reader.layout()) and
                         any(i.label == "lecture-1.m4a" for i in m) and m, 30, "the menu")
        look = IconLook("transcribing", progress=42.0, failed=True)
        draw_menu(items, 0, out_dir / "menu.png", look)
        queue = next(i for i in items if i.label.startswith("Queue"))
        draw_menu(items, queue.id, out_dir / "queue.png", look)
        first = next(i for i in items if i.parent == queue.id and i.label == "lecture-1.m4a")
        draw_menu(items, first.id, out_dir / "cancel.png", look)
        written += [out_dir / "menu.png", out_dir / "queue.png", out_dir / "cancel.png"]
        fake.emit("job_done", id=1, file="interview.flac", outputs=[str(transcript)])
        fake.emit("job_failed", id=2, file="notes.wav", final=True,
                  error="not an audio file: no audio stream found")
        fake.set_memory("critical", 93.0)
        shots = {"ready.png": "Transcript ready", "failure.png": "Transcription failed",
                 "memory.png": "Memory critical"}
        for file, title in shots.items():
            note = wait_for(lambda t=title: next(
                (n for n in services.notes() if n.summary.startswith(t)), None), 30, title)
            draw_notice(note, out_dir / file)
            written.append(out_dir / file)
        reader.close()
    finally:
        tray.terminate()
        tray.wait(10)
        fake.stop()
        services.close()
        desktop.stop()
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs/tray")
    for path in take(out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
