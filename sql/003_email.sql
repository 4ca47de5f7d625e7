-- mod_trpcauth schema, migration 003: e-mail verification and password reset (issue 14; CONTRACT §3, §10).
--
-- email_tokens: one row per verification or reset link. Only the hex SHA-256 of the token is stored: the token
-- itself travels in the mail alone, so a copy of this table opens no account. A token is single use (used_at)
-- and has a lifetime (expires_at); a new reset request marks the user's earlier reset tokens used.
-- mail_outbox: the messages waiting for the delivery process, written in the same transaction as the token
-- (NOTIFY trpcauth_outbox wakes the sender at commit). sealed_link is the link sealed with AES-256-GCM under a
-- key derived from the refresh signing key (src/jose/seal.h), and is set to NULL once the mail is sent.
-- Applied by scripts/devstack (recorded in schema_migrations); by hand, as README says:
--   psql -v ON_ERROR_STOP=1 --single-transaction -f sql/003_email.sql

CREATE TABLE IF NOT EXISTS email_tokens (
    token_hash  text PRIMARY KEY,            -- hex SHA-256 of the token; the token itself is never stored
    user_id     integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('verify-email', 'reset-password')),
    email       text NOT NULL,               -- the address the token was issued for
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz NULL
);
CREATE INDEX IF NOT EXISTS email_tokens_user_kind_idx ON email_tokens (user_id, kind);

CREATE TABLE IF NOT EXISTS mail_outbox (
    id            bigserial PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    kind          text NOT NULL,             -- template: 'verify-email' | 'reset-password'
    recipient     text NOT NULL,
    sealed_link   text NULL,                 -- the full link (with its token), sealed; set to NULL once sent
    expires_at    timestamptz NOT NULL,      -- the token's expiry: said in the mail; not sent after it
    attempts      integer NOT NULL DEFAULT 0,
    next_attempt  timestamptz NOT NULL DEFAULT now(),
    last_error    text NULL,
    sent_at       timestamptz NULL
);
CREATE INDEX IF NOT EXISTS mail_outbox_pending_idx ON mail_outbox (next_attempt) WHERE sent_at IS NULL;
