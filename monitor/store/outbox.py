"""The outbox: every message newsmon owes a channel, until the channel has accepted it.

A message is queued in the same transaction as what it tells of (an event, a notice), once
per subject and channel; a delivering process claims it with a lease before sending, so two
processes never send it twice and a process that died does not hold it for ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from monitor.models import OutboxMessage
from monitor.store.schema import Connection, iso, now

# How long a delivering process owns a claimed message; longer than any one send.
CLAIM_LEASE = timedelta(minutes=15)


def _message(row: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        subject=row["subject"],
        channel=row["channel"],
        event_id=row["event_id"],
        title=row["title"],
        body=row["body"],
        state=row["state"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


class OutboxStore(Connection):
    def enqueue(
        self,
        subject: str,
        channel: str,
        event_id: int | None,
        title: str | None,
        body: str | None,
    ) -> bool:
        """Queue one message in the caller's transaction; False if it was queued before."""
        cursor = self.db.execute(
            """INSERT INTO outbox (subject, channel, event_id, title, body, next_attempt_at,
                   created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(subject, channel) DO NOTHING""",
            [subject, channel, event_id, title, body, iso(now()), iso(now())],
        )
        return cursor.rowcount == 1

    def told(self, event_id: int) -> list[str]:
        """The channels an event's alert was queued for."""
        rows = self.db.execute(
            "SELECT channel FROM outbox WHERE subject = ?", [f"event:{event_id}"]
        )
        return [row[0] for row in rows]

    def enqueue_message(self, subject: str, channels: Sequence[str], title: str, body: str) -> int:
        """Queue a ready-made message (a notice, a digest) once per subject and channel."""
        with self.write():
            return sum(self.enqueue(subject, c, None, title, body) for c in channels)

    def claim_next(
        self,
        owner: str,
        now: datetime,
        after_id: int = 0,
        ignore_backoff: bool = False,
        subject_prefix: str = "",
    ) -> OutboxMessage | None:
        """Take the next message due after ``after_id`` for ``owner``, or None.

        The claim is a lease written in the same ``BEGIN IMMEDIATE`` transaction that
        found the row, so two processes on one database never send the same message;
        a lease left by a process that died expires after ``CLAIM_LEASE``.
        """
        with self.write():
            rows = list(
                self.db.query(
                    """SELECT * FROM outbox WHERE state IN ('pending', 'retrying') AND id > ?
                       AND (? OR next_attempt_at <= ?) AND subject LIKE ? ESCAPE '\\'
                       AND (claimed_until IS NULL OR claimed_until <= ?)
                       ORDER BY id LIMIT 1""",
                    [
                        after_id,
                        int(ignore_backoff),
                        iso(now),
                        subject_prefix.replace("%", "\\%").replace("_", "\\_") + "%",
                        iso(now),
                    ],
                )
            )
            if not rows:
                return None
            self.db.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                [owner, iso(now + CLAIM_LEASE), rows[0]["id"]],
            )
        return _message(rows[0])

    def mark_sent(self, message_id: int) -> None:
        with self.write():
            self.db.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = ?",
                [iso(now()), message_id],
            )

    def mark_failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        """Count a failed attempt and release the claim; without ``retry_at`` it is dead."""
        with self.write():
            self.db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = COALESCE(?, next_attempt_at), claimed_by = NULL, "
                "claimed_until = NULL WHERE id = ?",
                ["retrying" if retry_at else "dead", error, iso(retry_at), message_id],
            )

    def give_up(self, message_id: int, reason: str) -> None:
        """A message that can never be sent (its channel or event is gone): dead, untried."""
        with self.write():
            self.db.execute(
                "UPDATE outbox SET state = 'dead', last_error = ?, claimed_by = NULL, "
                "claimed_until = NULL WHERE id = ?",
                [reason, message_id],
            )

    def outbox_counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT state, count(*) FROM outbox GROUP BY state")
        counts = {"pending": 0, "retrying": 0, "sent": 0, "dead": 0}
        counts.update({row[0]: row[1] for row in rows})
        return counts

    def outbox_by_channel(self) -> dict[tuple[str, str], int]:
        """How many messages each channel (its key) has in each state."""
        rows = self.db.execute("SELECT channel, state, count(*) FROM outbox GROUP BY 1, 2")
        return {(row[0], row[1]): row[2] for row in rows}

    def retrying_channels(self) -> list[tuple[str, int, datetime, str | None]]:
        """Per channel with failed messages waiting: (channel, how many, the next try,
        the latest error), so that a channel that keeps failing shows why."""
        rows = self.db.execute(
            """SELECT channel, count(*), min(next_attempt_at),
                      (SELECT last_error FROM outbox AS latest
                       WHERE latest.channel = outbox.channel AND latest.state = 'retrying'
                       ORDER BY attempts DESC, id DESC LIMIT 1)
               FROM outbox WHERE state = 'retrying' GROUP BY channel ORDER BY channel"""
        )
        return [(row[0], row[1], datetime.fromisoformat(row[2]), row[3]) for row in rows]

    def dead_messages(self) -> list[OutboxMessage]:
        rows = self.db.query("SELECT * FROM outbox WHERE state = 'dead' ORDER BY id")
        return [_message(row) for row in rows]
