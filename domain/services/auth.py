"""Logging in and out, and turning a bearer token into a principal."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from domain.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from domain.model import tokens
from domain.model.emails import comparable_email
from domain.model.identity import (
    ROLES,
    ApiKey,
    IssuedApiKey,
    LoginResult,
    NewApiKey,
    NewSession,
    Principal,
    Role,
)
from domain.model.paging import Page, PageRequest
from domain.ports import (
    Clock,
    IdentityReader,
    KeyUseLog,
    LoginThrottle,
    PasswordHasher,
    UnitOfWorkFactory,
)

# Verified against when the email is unknown, so both failures cost the same argon2 work.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$KWkqwDmaAj9MibMPWW51XA$"
    "6Xa7CmqQQU8Wnv4CEx+j5QlluDiCsPUZGjdXFejg/VQ"
)


class AuthService:
    def __init__(
        self,
        identities: IdentityReader,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        clock: Clock,
        session_ttl: timedelta,
        key_uses: KeyUseLog,
        api_key_max_age: timedelta = timedelta(days=365),
        throttle: LoginThrottle | None = None,
    ) -> None:
        self._identities = identities
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._ttl = session_ttl
        self._key_uses = key_uses
        self._key_max_age = api_key_max_age
        self._throttle = throttle

    async def login(
        self, tenant_id: UUID, email: str, password: str, address: str | None = None
    ) -> LoginResult:
        # Read, release the connection, verify in a thread, then write: no connection is held
        # while argon2 burns CPU.
        email = comparable_email(email)
        throttle = self._throttle if address is not None else None
        if throttle is not None:
            assert address is not None
            await throttle.attempt(tenant_id, email, address)  # counted as failed until right
        user = await self._identities.credentials(tenant_id, email)
        ok = await self._hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        if user is None or not ok:
            raise AuthenticationFailed("email or password is wrong")
        if throttle is not None:
            assert address is not None
            await throttle.succeeded(tenant_id, email, address)
        token = tokens.new_session_token()
        expires_at = self._clock.now() + self._ttl
        async with self._uow(tenant_id) as uow:
            await uow.sessions.add(NewSession(tokens.digest(token), tenant_id, user.id, expires_at))
            await uow.commit()
        return LoginResult(token=token, expires_at=expires_at, user=user)

    async def logout(self, principal: Principal) -> None:
        if principal.session_id is None:
            return  # API keys are revoked by an operator, not by logging out
        async with self._uow(principal.tenant_id) as uow:
            await uow.sessions.revoke(principal.session_id, self._clock.now())
            await uow.commit()
        # Every worker hears of the revocation from PostgreSQL a moment after the commit; this
        # one must not answer the same token from memory in that moment.
        self._identities.forget(principal.tenant_id, principal.session_id)

    async def logout_everywhere(self, principal: Principal) -> int:
        """End every session of the calling user (this one included); how many ended."""
        if principal.user_id is None:
            raise PermissionDenied("only a user has sessions; revoke an API key instead")
        return await self._end_sessions(principal.tenant_id, principal.user_id)

    async def revoke_sessions(self, tenant_id: UUID, email: str) -> int:
        """The operator ends every session of a user (after a password reset, say)."""
        user = await self._identities.credentials(tenant_id, comparable_email(email))
        if user is None:
            raise NotFound("no user with this email")
        return await self._end_sessions(tenant_id, user.id)

    async def _end_sessions(self, tenant_id: UUID, user_id: UUID) -> int:
        async with self._uow(tenant_id) as uow:
            ended = await uow.sessions.revoke_all_of_user(user_id, self._clock.now())
            await uow.commit()
        # Every worker (this one too) drops them when PostgreSQL announces the update.
        return ended

    async def authenticate(self, tenant_id: UUID, token: str) -> Principal:
        if not tokens.looks_like_token(token):
            raise AuthenticationFailed()
        digest = tokens.digest(token)
        if tokens.is_api_key(token):
            principal = await self._identities.principal_for_api_key(tenant_id, digest)
            if principal is not None and principal.api_key_id is not None:
                # Noted in memory, written later in a batch (infrastructure/key_uses.py): a
                # read neither waits on this write nor fails with it.
                self._key_uses.note(tenant_id, principal.api_key_id, self._clock.now())
        else:
            principal = await self._identities.principal_for_session(tenant_id, digest)
        if principal is None:
            raise AuthenticationFailed()
        return principal

    def remembered(self, tenant_id: UUID, token: str) -> Principal | None:
        """`authenticate` without a round trip: the principal if the worker remembers it,
        else None (then `authenticate`, which may refuse). For answers that need no data
        (a 304), so they need no place in the reads gate either."""
        if not tokens.looks_like_token(token):
            return None
        principal = self._identities.remembered(tenant_id, tokens.digest(token))
        if principal is not None and principal.api_key_id is not None:
            self._key_uses.note(tenant_id, principal.api_key_id, self._clock.now())
        return principal

    async def create_api_key(
        self, principal: Principal, name: str, role: Role, expires_at: datetime | None = None
    ) -> IssuedApiKey:
        """A new key of the principal's tenant; its secret is in the answer and nowhere else.

        A key never outranks nor outlives its creator: its role is at most the creator's, and
        a key minted by a key expires no later than that key (or than API_KEY_MAX_DAYS from
        now, when that key never expires); without `expires_at` it gets that bound."""
        require_admin(principal)
        name = name.strip()
        if not name:
            raise InvalidInput("the key needs a name", {"name": ["must not be blank"]})
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}", {"role": ["must be admin or sales"]})
        if ROLES.index(role) < ROLES.index(principal.role):  # ROLES runs from the highest
            raise PermissionDenied(f"a {principal.role} cannot create a key of role {role}")
        if expires_at is not None and expires_at <= self._clock.now():
            raise InvalidInput("already expired", {"expires_at": ["must be in the future"]})
        expires_at = self._bounded_expiry(principal, expires_at)
        tenant_id = principal.tenant_id
        key = tokens.new_api_key(tenant_id)
        new = NewApiKey(
            uuid4(),
            tenant_id,
            name,
            role,
            tokens.digest(key),
            expires_at,
            created_by_user_id=principal.user_id,
            created_by_key_id=principal.api_key_id,
        )
        async with self._uow(tenant_id) as uow:
            created = await uow.api_keys.add(new)
            uow.events.record("api_key.created", created)  # never the secret
            await uow.commit()
        return IssuedApiKey(key, created)

    def _bounded_expiry(self, creator: Principal, expires_at: datetime | None) -> datetime | None:
        if creator.api_key_id is None:
            return expires_at  # a user (or the operator): keys may be open-ended
        bound = creator.expires_at or self._clock.now() + self._key_max_age
        if expires_at is None:
            return bound
        if expires_at > bound:
            raise InvalidInput(
                "a key cannot outlive the key that creates it",
                {"expires_at": [f"must be no later than {bound.isoformat()}"]},
            )
        return expires_at

    async def list_api_keys(self, principal: Principal, page: PageRequest) -> Page[ApiKey]:
        require_admin(principal)
        return await self._identities.api_keys(principal.tenant_id, page)

    async def revoke_api_key(self, principal: Principal, key_id: UUID) -> None:
        """Revoke a key of the principal's tenant; revoking it again changes nothing."""
        require_admin(principal)
        async with self._uow(principal.tenant_id) as uow:
            now = self._clock.now()
            if not await uow.api_keys.revoke(key_id, now):
                raise NotFound("api key not found")
            uow.events.record("api_key.revoked", {"id": key_id, "revoked_at": now})
            await uow.commit()


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise PermissionDenied("this action needs the admin role")
