-- mod_trpcauth schema, migration 001: the Finance Tracker tutorial's tables (CONTRACT §7).
--
-- Compatible with the tutorial's Drizzle schema (users.schema.ts / transaction.schema.ts): same table, column,
-- enum and constraint names, timestamps WITHOUT time zone. Safe to run against an EXISTING tutorial database:
-- every object is created only if missing, and columns the older tutorial parts lacked are added.
-- Applied by scripts/devstack (recorded in schema_migrations); can also be run by hand with
--   psql -v ON_ERROR_STOP=1 --single-transaction -f sql/001_init.sql

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE t.typname = 'txnType' AND n.nspname = current_schema()) THEN
        CREATE TYPE "txnType" AS ENUM ('Incoming', 'Outgoing');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE t.typname = 'tag' AND n.nspname = current_schema()) THEN
        CREATE TYPE "tag" AS ENUM ('Food', 'Travel', 'Shopping', 'Investment', 'Salary', 'Bill', 'Others');
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS users (
    id             serial PRIMARY KEY,
    email          text NOT NULL,
    email_verified boolean DEFAULT false,
    password       text NOT NULL,
    created_at     timestamp DEFAULT now(),
    updated_at     timestamp DEFAULT now(),
    CONSTRAINT users_email_unique UNIQUE (email)        -- the name drizzle-kit gives it
);

-- email_verified only exists in the tutorial's last part; older databases get it here.
ALTER TABLE users ADD COLUMN IF NOT EXISTS email_verified boolean DEFAULT false;

CREATE TABLE IF NOT EXISTS transactions (
    id         serial PRIMARY KEY,
    amount     integer NOT NULL,
    txn_type   "txnType" NOT NULL,
    summary    text,
    tag        "tag" DEFAULT 'Others',
    user_id    integer NOT NULL,
    created_at timestamp DEFAULT now(),
    updated_at timestamp DEFAULT now(),
    CONSTRAINT transactions_user_id_users_id_fk
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

-- The tutorial's only checked-in Drizzle migration (0000_true_junta.sql) created transactions WITHOUT user_id.
-- Such a database gets the column and the foreign key; NOT NULL is set when no existing row lacks an owner
-- (rows without one cannot be attributed to a user and are never returned by the module).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'transactions'
                     AND column_name = 'user_id') THEN
        ALTER TABLE transactions ADD COLUMN user_id integer;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint c
                   WHERE c.conrelid = 'transactions'::regclass AND c.contype = 'f'
                     AND c.confrelid = 'users'::regclass) THEN
        ALTER TABLE transactions ADD CONSTRAINT transactions_user_id_users_id_fk
            FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM transactions WHERE user_id IS NULL) THEN
        ALTER TABLE transactions ALTER COLUMN user_id SET NOT NULL;
    ELSE
        RAISE WARNING 'transactions has rows without user_id; user_id left nullable';
    END IF;
END
$$;

-- transaction.getAll: WHERE user_id = $1 ORDER BY created_at DESC, id DESC
CREATE INDEX IF NOT EXISTS transactions_user_id_created_at_idx
    ON transactions (user_id, created_at DESC, id DESC);
