"""Make the soundbox's clips once, offline: each word of `web.voice.WORDS` synthesised by
espeak-ng (voice `vi`), trimmed of silence and saved as Ogg Vorbis by sox, plus a two-tone chime
made by sox. The clips are committed under `web/static/clips/`; run this again only to remake
them (`python -m web.voice_clips`, needs the Debian packages espeak-ng and sox). A recorded human
voice can replace the files one by one under the same names."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from web.voice import CHIME, WORDS

CLIPS = Path(__file__).parent / "static" / "clips"
RATE = "22050"


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 (fixed tools, own args)


def make_word(key: str, text: str, folder: Path) -> Path:
    wav = folder / f"{key}.wav"
    espeak = shutil.which("espeak-ng") or "espeak-ng"
    sox = shutil.which("sox") or "sox"
    _run(espeak, "-v", "vi", "-s", "150", "-w", str(wav), text)
    target = CLIPS / f"{key}.ogg"
    # trim leading and trailing silence so the words run together like speech
    _run(
        sox, str(wav), "-r", RATE, str(target),
        "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
    )  # fmt: skip
    return target


def make_chime() -> Path:
    target = CLIPS / f"{CHIME}.ogg"
    sox = shutil.which("sox") or "sox"
    _run(
        sox, "-n", "-r", RATE, str(target),
        "synth", "0.18", "sine", "880", "synth", "0.18", "sine", "mix", "1320",
        "fade", "0", "0.36", "0.12", "pad", "0", "0.08", "vol", "0.6",
    )  # fmt: skip
    return target


def main() -> None:
    CLIPS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        for key, text in WORDS.items():
            print(make_word(key, text, Path(folder)))
    print(make_chime())


if __name__ == "__main__":
    main()
