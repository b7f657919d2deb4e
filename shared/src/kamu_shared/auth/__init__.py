"""Who is calling: bearer JWTs verified into a :class:`~kamu_shared.auth.principal.Principal`.

Modules: ``principal`` (the caller and roles), ``verifier`` (HS256 secret or RS256 JWKS),
``deps`` (FastAPI dependencies and ``install_auth``), ``policy`` (404-vs-403 helper), ``mint``
(local tokens; ``python -m kamu_shared.auth mint``).
"""
