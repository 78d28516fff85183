"""Conversations kept on the server, per logged-in user, in one SQLite file.

    history = History(Path("conversations.sqlite3"))
    history.save("analyst", {"id": "c1", "title": "What is PBC?", "turns": [...]})
    history.list("analyst")      # [{"id", "title", "updated", "turns"}], newest first
    history.get("analyst", "c1")
    history.delete("analyst", "c1")

Without a login the page keeps conversations in the browser only (localStorage).
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

MAX_CONVERSATIONS = 200  # per user; the oldest beyond this are dropped


class History:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS conversations (user TEXT NOT NULL, id TEXT NOT NULL, "
                       "title TEXT NOT NULL, updated REAL NOT NULL, turns INTEGER NOT NULL, data TEXT NOT NULL, "
                       "PRIMARY KEY (user, id))")

    @contextmanager
    def _connect(self):
        db = sqlite3.connect(self.path, timeout=10)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:  # commits, or rolls back on an error
                yield db
        finally:
            db.close()

    def save(self, user: str, conversation: dict) -> None:
        turns = conversation.get("turns") or []
        if not turns:
            return
        with self._lock, self._connect() as db:
            db.execute("INSERT OR REPLACE INTO conversations VALUES (?, ?, ?, ?, ?, ?)",
                       (user, conversation["id"], conversation.get("title") or turns[0]["question"][:80],
                        conversation.get("updated") or time.time(), len(turns),
                        json.dumps(conversation, ensure_ascii=False)))
            db.execute("DELETE FROM conversations WHERE user = ? AND id NOT IN (SELECT id FROM conversations "
                       "WHERE user = ? ORDER BY updated DESC LIMIT ?)", (user, user, MAX_CONVERSATIONS))

    def list(self, user: str) -> list[dict]:
        with self._connect() as db:
            rows = db.execute("SELECT id, title, updated, turns FROM conversations WHERE user = ? "
                              "ORDER BY updated DESC", (user,)).fetchall()
        return [{"id": i, "title": t, "updated": u, "turns": n} for i, t, u, n in rows]

    def get(self, user: str, conversation_id: str) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT data FROM conversations WHERE user = ? AND id = ?",
                             (user, conversation_id)).fetchone()
        return json.loads(row[0]) if row else None

    def delete(self, user: str, conversation_id: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM conversations WHERE user = ? AND id = ?", (user, conversation_id))
