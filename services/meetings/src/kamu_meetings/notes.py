"""Sealing the pair's private notes: Fernet tokens under one key per pairing.

Notes are recorded in ``meeting-held`` events, which the relay publishes; sealed, they are
readable only here, by the two members, and erasing a pairing's key erases its notes everywhere
(the topic and the event store keep only ciphertext). Keys never leave this service's database.
A new key is stored in the command's transaction after its append (the append must be the
first write), under the pairing's lock, so a refused command leaves no key behind.
"""

from cryptography.fernet import Fernet, InvalidToken

from kamu_shared.db.pool import Connection


def make_key() -> str:
    return Fernet.generate_key().decode()


async def existing_key(conn: Connection, pairing_id: str) -> str | None:
    key: str | None = await conn.fetchval(
        "SELECT key FROM meetings_pairing_keys WHERE pairing_id = $1", pairing_id
    )
    return key


async def store_key(conn: Connection, pairing_id: str, key: str) -> None:
    await conn.execute(
        "INSERT INTO meetings_pairing_keys (pairing_id, key) VALUES ($1, $2)", pairing_id, key
    )


def seal(key: str, notes: str) -> str:
    return Fernet(key.encode()).encrypt(notes.encode()).decode()


async def unseal(conn: Connection, pairing_id: str, sealed: str | None) -> str | None:
    """The notes in clear, or ``None`` when there are none or their key was erased."""
    if sealed is None:
        return None
    key = await existing_key(conn, pairing_id)
    if key is None:
        return None
    try:
        return Fernet(key.encode()).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
