"""AuthService on in-memory fakes: logging in and out, and turning a token into a principal."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from domain.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from domain.model.identity import NewApiKey, NewSession, Principal, Role, UserCredentials
from domain.model.paging import PageRequest
from domain.services.auth import AuthService
from tests.unit.fakes import (
    FakeIdentityReader,
    FakeKeyUseLog,
    FakePasswordHasher,
    FakeUnitOfWorkFactory,
    FixedClock,
    Store,
    fake_hash,
)

TTL = timedelta(hours=8)
PASSWORD = "correct horse battery staple"
EMAIL = "ada@example.test"
# Fixed, well-formed tokens: a random one could start with "sk_" and change the dispatch.
SESSION_TOKEN = "session-token-0123456789abcdef"
API_KEY = "sk_api-key-0123456789abcdef"


def sha256(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass
class Auth:
    tenant_id: UUID
    store: Store
    clock: FixedClock
    identities: FakeIdentityReader
    hasher: FakePasswordHasher
    uows: FakeUnitOfWorkFactory
    service: AuthService
    key_uses: FakeKeyUseLog

    def add_user(self, email: str = EMAIL, role: Role = "admin") -> UserCredentials:
        user = UserCredentials(uuid4(), email, "Ada", role, fake_hash(PASSWORD))
        self.store.users[(self.tenant_id, email)] = user
        return user

    def add_session(self, user: UserCredentials, token: str = SESSION_TOKEN) -> bytes:
        expires_at = self.clock.now() + TTL
        self.store.sessions[sha256(token)] = NewSession(
            sha256(token), self.tenant_id, user.id, expires_at
        )
        return sha256(token)


@pytest.fixture
def auth() -> Auth:
    store, clock = Store(), FixedClock()
    identities, hasher = FakeIdentityReader(store, clock), FakePasswordHasher()
    uows = FakeUnitOfWorkFactory(store, clock)
    key_uses = FakeKeyUseLog()
    service = AuthService(identities, uows, hasher, clock, TTL, key_uses)
    return Auth(uuid4(), store, clock, identities, hasher, uows, service, key_uses)


# ---- login -----------------------------------------------------------------------------------


async def test_login_commits_exactly_one_session_keyed_by_the_sha256_of_the_token(
    auth: Auth,
) -> None:
    user = auth.add_user()
    result = await auth.service.login(auth.tenant_id, EMAIL, PASSWORD)

    assert auth.uows.commits == 1 and len(auth.uows.opened) == 1
    assert auth.uows.opened[0].tenant_id == auth.tenant_id
    assert list(auth.store.sessions) == [sha256(result.token)]
    session = auth.store.sessions[sha256(result.token)]
    assert (session.tenant_id, session.user_id) == (auth.tenant_id, user.id)


async def test_login_never_stores_the_token_itself(auth: Auth) -> None:
    auth.add_user()
    result = await auth.service.login(auth.tenant_id, EMAIL, PASSWORD)

    (session,) = auth.store.sessions.values()
    assert session.id != result.token.encode()
    assert result.token not in repr(auth.store)


async def test_login_session_expires_after_the_configured_ttl(auth: Auth) -> None:
    auth.add_user()
    result = await auth.service.login(auth.tenant_id, EMAIL, PASSWORD)

    (session,) = auth.store.sessions.values()
    assert session.expires_at == result.expires_at == auth.clock.now() + TTL


async def test_login_returns_the_user_it_found(auth: Auth) -> None:
    user = auth.add_user()
    result = await auth.service.login(auth.tenant_id, EMAIL, PASSWORD)
    assert result.user == user


async def test_login_trims_and_lowercases_the_email_before_looking_it_up(auth: Auth) -> None:
    auth.add_user()
    await auth.service.login(auth.tenant_id, "  Ada@Example.TEST ", PASSWORD)
    assert auth.identities.calls == [("credentials", auth.tenant_id, EMAIL)]


async def test_wrong_password_raises_authentication_failed_and_commits_nothing(auth: Auth) -> None:
    auth.add_user()
    with pytest.raises(AuthenticationFailed):
        await auth.service.login(auth.tenant_id, EMAIL, "not the password")
    assert auth.uows.opened == [] and auth.store.sessions == {}


async def test_unknown_email_raises_authentication_failed_and_commits_nothing(auth: Auth) -> None:
    auth.add_user()
    with pytest.raises(AuthenticationFailed):
        await auth.service.login(auth.tenant_id, "ghost@example.test", PASSWORD)
    assert auth.uows.opened == [] and auth.store.sessions == {}


async def test_unknown_email_still_verifies_a_password_so_both_failures_cost_the_same(
    auth: Auth,
) -> None:
    with pytest.raises(AuthenticationFailed):
        await auth.service.login(auth.tenant_id, "ghost@example.test", PASSWORD)
    assert len(auth.hasher.verified) == 1


async def test_wrong_password_and_unknown_email_give_the_same_message(auth: Auth) -> None:
    auth.add_user()
    with pytest.raises(AuthenticationFailed) as wrong_password:
        await auth.service.login(auth.tenant_id, EMAIL, "not the password")
    with pytest.raises(AuthenticationFailed) as unknown_email:
        await auth.service.login(auth.tenant_id, "ghost@example.test", PASSWORD)
    assert wrong_password.value.detail == unknown_email.value.detail


async def test_a_user_of_another_tenant_cannot_log_in(auth: Auth) -> None:
    auth.add_user()
    with pytest.raises(AuthenticationFailed):
        await auth.service.login(uuid4(), EMAIL, PASSWORD)
    assert auth.uows.opened == []


# ---- logout ----------------------------------------------------------------------------------


async def test_logout_revokes_the_session_through_a_committed_unit_of_work(auth: Auth) -> None:
    user = auth.add_user()
    session_id = auth.add_session(user)
    principal = Principal(auth.tenant_id, "admin", user_id=user.id, session_id=session_id)

    await auth.service.logout(principal)

    assert auth.uows.commits == 1
    assert auth.uows.opened[0].tenant_id == auth.tenant_id
    assert auth.store.revoked_sessions == {session_id: auth.clock.now()}
    # and the worker that revoked it forgets it at once, before any notification arrives
    assert auth.identities.forgotten == [(auth.tenant_id, session_id)]


async def test_a_logged_out_token_no_longer_authenticates(auth: Auth) -> None:
    auth.add_user()
    token = (await auth.service.login(auth.tenant_id, EMAIL, PASSWORD)).token
    principal = await auth.service.authenticate(auth.tenant_id, token)

    await auth.service.logout(principal)

    with pytest.raises(AuthenticationFailed):
        await auth.service.authenticate(auth.tenant_id, token)


async def test_logout_of_an_api_key_principal_touches_no_session(auth: Auth) -> None:
    user = auth.add_user()
    auth.add_session(user)
    before = auth.store.copy()

    await auth.service.logout(Principal(auth.tenant_id, "sales", api_key_id=uuid4()))

    assert auth.uows.opened == []
    assert auth.store == before


# ---- authenticate ----------------------------------------------------------------------------


async def test_authenticate_looks_up_an_sk_token_as_an_api_key_by_its_digest(auth: Auth) -> None:
    key_id = uuid4()
    auth.store.api_keys[sha256(API_KEY)] = NewApiKey(
        key_id, auth.tenant_id, "ci", "sales", sha256(API_KEY)
    )

    principal = await auth.service.authenticate(auth.tenant_id, API_KEY)

    assert principal.api_key_id == key_id and principal.role == "sales"
    assert auth.identities.calls == [("api_key", auth.tenant_id, sha256(API_KEY))]


async def test_authenticate_looks_up_any_other_token_as_a_session_by_its_digest(auth: Auth) -> None:
    user = auth.add_user()
    auth.add_session(user)

    principal = await auth.service.authenticate(auth.tenant_id, SESSION_TOKEN)

    assert principal.user_id == user.id and principal.session_id == sha256(SESSION_TOKEN)
    assert auth.identities.calls == [("session", auth.tenant_id, sha256(SESSION_TOKEN))]


async def test_a_well_formed_but_unknown_token_fails_after_one_lookup(auth: Auth) -> None:
    with pytest.raises(AuthenticationFailed):
        await auth.service.authenticate(auth.tenant_id, SESSION_TOKEN)
    assert len(auth.identities.calls) == 1


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("short", id="short"),
        pytest.param("sk_", id="bare-prefix"),
        pytest.param("x" * 129, id="too-long"),
        pytest.param("sk_" + "x" * 200, id="too-long-api-key"),
        pytest.param("has spaces in the middle of it", id="spaces"),
        pytest.param("tab\tinside-0123456789abcdef", id="tab"),
        pytest.param("newline\ninside-0123456789abc", id="newline"),
        pytest.param("nön-ascii-0123456789abcdefgh", id="non-ascii"),
    ],
)
async def test_authenticate_rejects_a_junk_token_without_calling_the_reader(
    auth: Auth, token: str
) -> None:
    with pytest.raises(AuthenticationFailed):
        await auth.service.authenticate(auth.tenant_id, token)
    assert auth.identities.calls == []


# ---- API keys --------------------------------------------------------------------------------


async def test_create_api_key_commits_only_the_digest_of_the_key_it_returns(auth: Auth) -> None:
    issued = await auth.service.create_api_key(Principal.operator(auth.tenant_id), "ci", "sales")
    key_id, key = issued.api_key.id, issued.key

    assert key.startswith("sk_")
    assert auth.uows.commits == 1
    stored = auth.store.api_keys[sha256(key)]
    assert (stored.id, stored.tenant_id, stored.role) == (key_id, auth.tenant_id, "sales")
    assert key not in repr(auth.store)


async def test_create_api_key_with_an_unknown_role_is_refused_before_any_write(auth: Auth) -> None:
    with pytest.raises(InvalidInput):
        await auth.service.create_api_key(
            Principal.operator(auth.tenant_id),
            "ci",
            "root",  # type: ignore[arg-type]
        )
    assert auth.uows.opened == []


async def test_only_an_admin_may_create_list_or_revoke_api_keys(auth: Auth) -> None:
    sales = Principal(auth.tenant_id, "sales", user_id=uuid4())
    with pytest.raises(PermissionDenied):
        await auth.service.create_api_key(sales, "ci", "sales")
    with pytest.raises(PermissionDenied):
        await auth.service.list_api_keys(sales, PageRequest())
    with pytest.raises(PermissionDenied):
        await auth.service.revoke_api_key(sales, uuid4())
    assert auth.uows.opened == []


@pytest.mark.parametrize("name", ["", "   "])
async def test_a_key_without_a_name_or_already_expired_is_refused(auth: Auth, name: str) -> None:
    admin = Principal.operator(auth.tenant_id)
    with pytest.raises(InvalidInput):
        await auth.service.create_api_key(admin, name, "sales")
    with pytest.raises(InvalidInput):
        await auth.service.create_api_key(admin, "ci", "sales", auth.clock.now())
    assert auth.uows.opened == []


async def test_an_expired_or_revoked_key_no_longer_authenticates(auth: Auth) -> None:
    admin = Principal.operator(auth.tenant_id)
    soon = auth.clock.now() + timedelta(minutes=5)
    expiring = await auth.service.create_api_key(admin, "soon", "sales", soon)
    revoked = await auth.service.create_api_key(admin, "gone", "sales")
    await auth.service.revoke_api_key(admin, revoked.api_key.id)
    await auth.service.authenticate(auth.tenant_id, expiring.key)
    auth.clock.advance(timedelta(minutes=5))
    for key in (expiring.key, revoked.key):
        with pytest.raises(AuthenticationFailed):
            await auth.service.authenticate(auth.tenant_id, key)


async def test_revoking_an_unknown_key_is_not_found(auth: Auth) -> None:
    with pytest.raises(NotFound):
        await auth.service.revoke_api_key(Principal.operator(auth.tenant_id), uuid4())


async def test_a_keys_use_is_noted_for_later_and_opens_no_unit_of_work(auth: Auth) -> None:
    issued = await auth.service.create_api_key(Principal.operator(auth.tenant_id), "ci", "sales")
    opened_before = len(auth.uows.opened)
    for _ in range(3):
        await auth.service.authenticate(auth.tenant_id, issued.key)
    assert len(auth.uows.opened) == opened_before, "a read must not write"
    used = (auth.tenant_id, issued.api_key.id, auth.clock.now())
    assert auth.key_uses.noted == [used] * 3


async def test_a_sessions_use_is_not_noted(auth: Auth) -> None:
    auth.add_session(auth.add_user())
    await auth.service.authenticate(auth.tenant_id, SESSION_TOKEN)
    assert auth.key_uses.noted == []


async def test_remembered_answers_without_a_lookup_and_still_notes_an_api_keys_use(
    auth: Auth,
) -> None:
    key_id = uuid4()
    known = Principal(auth.tenant_id, "sales", api_key_id=key_id)
    auth.identities.remembers[(auth.tenant_id, sha256(API_KEY))] = known

    assert auth.service.remembered(auth.tenant_id, API_KEY) == known
    assert auth.service.remembered(auth.tenant_id, SESSION_TOKEN) is None  # not remembered
    assert auth.service.remembered(auth.tenant_id, "junk") is None
    assert auth.identities.calls == []
    assert [(t, k) for t, k, _ in auth.key_uses.noted] == [(auth.tenant_id, key_id)]
