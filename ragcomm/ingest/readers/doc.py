"""Old Word files (.doc): text by antiword, else by LibreOffice headless (both from Debian;
`make setup` installs antiword)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .base import IngestError
from .budget import DEFAULT, Budget
from .text import decode

EXTENSIONS = (".doc",)


def read(path: Path, budget: Budget = DEFAULT) -> str:
    path = Path(path)
    seconds = budget.seconds  # the worker stops the whole read at this too (ingest/worker.py)
    if shutil.which("antiword"):
        run = subprocess.run(["antiword", "-w", "0", str(path)], capture_output=True, timeout=seconds)
        if run.returncode == 0 and run.stdout.strip():
            return decode(run.stdout)
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office:
        with tempfile.TemporaryDirectory(prefix="ragcomm-doc-") as folder:
            run = subprocess.run([office, f"-env:UserInstallation=file://{folder}/profile", "--headless",
                                  "--convert-to", "txt:Text (encoded):UTF8", "--outdir", folder, str(path)],
                                 capture_output=True, timeout=seconds)
            out = Path(folder) / (path.stem + ".txt")
            if run.returncode == 0 and out.exists() and out.read_bytes().strip():
                return decode(out.read_bytes())
        raise IngestError("not a readable Word 97-2003 document")
    if shutil.which("antiword"):
        raise IngestError("not a readable Word 97-2003 document (antiword could not read it)")
    raise IngestError("reading .doc needs antiword or LibreOffice: apt-get install antiword (`make setup` does)")
