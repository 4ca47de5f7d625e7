-- mod_trpcauth schema, migration 002: audit trail of authentication events (CONTRACT §6, §7).
--
-- One row per event: register, login ok / failed, refresh, refresh-token reuse detected, logout, logoutAll,
-- revoke, password change. user_id is deliberately not a foreign key: failed logins for unknown accounts are
-- recorded too (user_id NULL), and the trail outlives deleted users.
-- Never store a password, a token or a secret in detail.

CREATE TABLE IF NOT EXISTS auth_events (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    event      text NOT NULL,
    user_id    integer NULL,
    session_id text NULL,
    ip         text NULL,
    user_agent text NULL,
    detail     jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX IF NOT EXISTS auth_events_user_id_at_idx ON auth_events (user_id, at);
CREATE INDEX IF NOT EXISTS auth_events_at_idx ON auth_events (at);
