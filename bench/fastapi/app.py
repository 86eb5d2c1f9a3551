"""The reverse lookup as a minimal FastAPI + uvicorn service, over the benchmark's own SQLite file.

The comparison point of BENCHMARKS.md: the stack the original service was written in. It is
deliberately lean, so the comparison flatters it rather than us: one route, the API key checked
against the same api_keys table (SHA-256, as ours), the same indexed query, a pydantic response
model, no cache. Run by `npm run bench -- --compare-fastapi` with Debian's python3-fastapi and
python3-uvicorn (apt-get install python3-fastapi python3-uvicorn):

    DATABASE_PATH=/path/bench.db python3 -m uvicorn app:app --app-dir bench/fastapi --port 8000
"""

import hashlib
import os
import sqlite3
import threading
from typing import Optional

from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

DATABASE_PATH = os.environ["DATABASE_PATH"]

app = FastAPI(title="identity lookup (FastAPI comparison)")
_local = threading.local()


def db() -> sqlite3.Connection:
    # One connection per thread: FastAPI runs plain `def` routes in a thread pool.
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = sqlite3.connect(DATABASE_PATH, check_same_thread=True)
        connection.execute("PRAGMA journal_mode = WAL")
        _local.connection = connection
    return connection


class LookupResult(BaseModel):
    channel: str
    customer_email: str
    customer_id: str
    display_name: Optional[str]
    external_id: str
    identity_id: str
    role_override: Optional[str]
    verified: bool


LOOKUP = """
select i.id, i.customer_id, i.channel, i.external_id, i.instance_id, i.display_name,
       i.role_override, i.verified_at, c.email
from identities as i join customers as c on c.id = i.customer_id
where i.channel = ? and i.external_id = ? limit 33
"""


@app.get("/v1/customers/lookup/identity", response_model=LookupResult)
def lookup_identity(
    channel: str,
    external_id: str,
    instance_id: Optional[str] = None,
    x_api_key: Optional[str] = Header(default=None),
):
    if not x_api_key:
        raise HTTPException(status_code=401, detail="Missing API key")
    key_hash = hashlib.sha256(x_api_key.encode()).hexdigest()
    connection = db()
    key = connection.execute(
        "select scope from api_keys where key_hash = ? and revoked_at is null", (key_hash,)
    ).fetchone()
    if key is None:
        raise HTTPException(status_code=401, detail="Invalid or revoked API key")
    rows = connection.execute(LOOKUP, (channel.strip().lower(), external_id.strip())).fetchall()
    scoped = [r for r in rows if instance_id is not None and r[4] == instance_id]
    unscoped = [r for r in rows if r[4] is None]
    row = (scoped or unscoped or [None])[0]
    if row is None:
        raise HTTPException(status_code=404, detail="Identity not found")
    return LookupResult(
        channel=row[2],
        customer_email=row[8],
        customer_id=row[1],
        display_name=row[5],
        external_id=row[3],
        identity_id=row[0],
        role_override=row[6],
        verified=row[7] is not None,
    )


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
