// The OS keyring (the Secret Service on Linux, Keychain on macOS, the
// Credential Manager on Windows) through @napi-rs/keyring, a maintained
// binding with prebuilt binaries (keytar, the old choice, is archived).
// Loaded only when a login is stored or read there. Its calls run off the
// event loop (AsyncEntry) with a time limit: a keyring that waits for a
// person to unlock it must not stall a daemon's leases and heartbeats.
import { BatonError } from '../errors.ts';

/** The keyring's service name for every baton entry; the account names the provider and the credentials directory. */
const SERVICE = 'baton';
/** How long one keyring call may take (a locked keyring may ask a person to unlock it). */
const KEYRING_TIMEOUT_MS = 10_000;

interface KeyringEntry {
  getPassword(signal?: AbortSignal): Promise<string | null>;
  setPassword(value: string, signal?: AbortSignal): Promise<void>;
  deletePassword(signal?: AbortSignal): Promise<boolean>;
}

async function entry(account: string): Promise<KeyringEntry> {
  let binding: { AsyncEntry: new (service: string, account: string) => KeyringEntry };
  try {
    binding = (await import('@napi-rs/keyring')) as unknown as typeof binding;
  } catch (error) {
    throw new BatonError('UNAVAILABLE', `the OS keyring binding (@napi-rs/keyring) could not be loaded: ${(error as Error).message}`);
  }
  return new binding.AsyncEntry(SERVICE, account);
}

/** Runs one keyring call within the time limit; its failure is UNAVAILABLE, saying what could not be done. */
async function call<T>(account: string, action: string, fn: (e: KeyringEntry, signal: AbortSignal) => Promise<T>): Promise<T> {
  const e = await entry(account);
  const signal = AbortSignal.timeout(KEYRING_TIMEOUT_MS);
  try {
    return await fn(e, signal);
  } catch (error) {
    const why = signal.aborted ? `no answer within ${KEYRING_TIMEOUT_MS / 1000} s` : (error as Error).message;
    throw new BatonError('UNAVAILABLE', `the OS keyring could not ${action} (${why}); is a Secret Service running and unlocked? (or use BATON_CREDENTIAL_STORE=file)`);
  }
}

export async function keyringGet(account: string): Promise<string | undefined> {
  return (await call(account, 'be read', (e, signal) => e.getPassword(signal))) ?? undefined;
}

export async function keyringSet(account: string, value: string): Promise<void> {
  await call(account, 'store the login', (e, signal) => e.setPassword(value, signal));
}

export async function keyringDelete(account: string): Promise<void> {
  await call(account, 'delete the login', (e, signal) => e.deletePassword(signal));
}

/** Whether a keyring answers here: one entry written, read back and deleted. */
export async function keyringWorks(account: string): Promise<boolean> {
  const probe = `${account}#probe`;
  try {
    await keyringSet(probe, 'probe');
    const back = await keyringGet(probe);
    await keyringDelete(probe);
    return back === 'probe';
  } catch {
    return false;
  }
}
