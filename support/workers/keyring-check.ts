// Run inside a D-Bus session with an unlocked Secret Service (the keyring
// test starts gnome-keyring under dbus-run-session): stores a login with the
// default preference, shows where it went and what the file holds, reads it
// back through the broker, and deletes it. Prints one JSON line.
// Usage: keyring-check.ts <credentials dir>
import { readFileSync } from 'node:fs';
import { CredentialBroker } from '../../src/credentials/broker.ts';
import { keyringGet } from '../../src/credentials/keyring.ts';
import { LoginStore } from '../../src/credentials/login-store.ts';
import { saveLogin } from '../../src/credentials/logins.ts';

const dir = process.argv[2]!;
const store = new LoginStore(dir, 'gemini');
const key = 'AIzaKeyringTest-42';
const location = await saveLogin(store, { mode: 'api-key', apiKey: key, savedAt: Date.now() }, 'auto');
const file = readFileSync(store.path, 'utf8');
const credential = await new CredentialBroker({ dir, env: {} }).get('gemini');
const inKeyring = (await keyringGet(`gemini@${dir}`)) !== undefined;
const removedFrom = await store.delete();
const afterDelete = (await keyringGet(`gemini@${dir}`)) !== undefined;
process.stdout.write(`${JSON.stringify({ location, fileHasKey: file.includes(key), token: credential.token, inKeyring, removedFrom, afterDelete })}\n`);
