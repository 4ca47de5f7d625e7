// t/lib/unseal.mjs KEYFILE AAD SEALED - opens a sealed outbox link as src/jose/seal.c makes it, for the tests
// that read a mail's link before (or beside) the delivery process: the key is HMAC-SHA256 over the label
// "mod_trpcauth outbox seal v1", keyed with the HS256 refresh secret (the key file, trailing newline stripped);
// SEALED is base64url(12-byte nonce || ciphertext || 16-byte tag), AAD the recipient address.
// Prints the link; exits 1 when the seal does not open.
import { createHmac, createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [keyfile, aad, sealed] = process.argv.slice(2);
const secret = readFileSync(keyfile).toString('latin1').replace(/\r?\n$/, '');
const key = createHmac('sha256', Buffer.from(secret, 'latin1')).update('mod_trpcauth outbox seal v1').digest();
const raw = Buffer.from(sealed, 'base64url');
try {
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(raw.subarray(raw.length - 16));
    const out = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
    process.stdout.write(out.toString('utf8') + '\n');
} catch (e) {
    process.stderr.write(`unseal: ${e.message}\n`);
    process.exit(1);
}
