"""The results file of `ovmm eval --results results.jsonl`: one JSON line per finished episode.

Each record is appended, flushed and fsynced as its episode ends, so a stopped evaluation loses at most the
episodes in flight. Running the same command again reads the file and skips every episode whose key
(apartment seed, index, settings; orchestrator.eval_jobs) is already there. A last line cut short by a kill
is dropped (and that episode runs again); a file that is not a results file is an error, not overwritten.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from core.errors import InputError
from orchestrator.eval_jobs import RECORD_FORMAT

log = logging.getLogger(__name__)
RECORD_PREFIX = b'{"format":"%s"' % RECORD_FORMAT.encode()  # how every record line starts (see append)


class ResultsFile:
    """Append-only JSON-lines store of episode records, keyed by record['key']."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.records: dict[str, dict] = {}
        self._complete_bytes: int | None = None  # where a cut-short last line starts (cut off at the next append)
        self._read()

    def _read(self) -> None:
        if not self.path.exists():
            if not self.path.parent.is_dir():
                raise InputError(f"--results: folder {self.path.parent} does not exist")
            return
        if self.path.is_dir():
            raise InputError(f"--results: {self.path} is a folder")
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise InputError(f"--results: cannot read {self.path} ({exc.strerror or exc})") from None
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            if not data[cut:].startswith(RECORD_PREFIX[: len(data) - cut]):
                raise InputError(f"--results: {self.path} is not an ovmm eval results file (its last line is not "
                                 "an episode record)")
            self._complete_bytes = cut
            log.warning("%s: the last line is incomplete (a run was stopped while writing it); that episode "
                        "runs again", self.path)
            data = data[: self._complete_bytes]
        for i, line in enumerate(data.decode("utf-8", errors="replace").splitlines()):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                raise InputError(f"--results: {self.path} line {i + 1} is not JSON; "
                                 "is it an ovmm eval results file?") from None
            if not isinstance(rec, dict) or rec.get("format") != RECORD_FORMAT or "key" not in rec:
                raise InputError(f"--results: {self.path} line {i + 1} is not an ovmm eval episode record")
            self.records[rec["key"]] = rec

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def append(self, record: dict) -> None:
        """Add one record to the file, durably (flush + fsync); a cut-short last line is dropped first."""
        line = json.dumps(record, separators=(",", ":")) + "\n"
        if self._complete_bytes is not None:
            os.truncate(self.path, self._complete_bytes)
            self._complete_bytes = None
        with open(self.path, "ab") as f:
            f.write(line.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        self.records[record["key"]] = record
