// The agent behind one MCP connection. One AgentState per connection: the
// agent's session (registered on connect) and the leases and claims it holds,
// so an agent passes only paths and task ids, never fencing tokens.
import type { Claim, Coordinator, Lease, RegisterOptions, Session } from '../../coordinator.ts';
import { isBatonError } from '../../errors.ts';

export class AgentState {
  readonly #coordinator: Coordinator;
  readonly #register: Omit<RegisterOptions, 'name'>;
  #name: string | undefined;
  #labels: Record<string, string>;
  #session: Promise<Session> | undefined;
  /** Leases this agent holds, by key: path reservations and named locks. */
  readonly leases = new Map<string, Lease>();
  /** Task claims this agent holds, by task id. */
  readonly claims = new Map<number, Claim>();
  /** The highest event seq seen, to find the newest events quickly. */
  lastSeq = 0;
  /** The agent's calls that change something, in the order they came. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(coordinator: Coordinator, register: Omit<RegisterOptions, 'name'>, name?: string) {
    this.#coordinator = coordinator;
    this.#register = register;
    this.#labels = register.labels ?? {};
    this.#name = name;
  }

  /** Who connected (from the MCP handshake): the default name (--name wins) and labels for the session. */
  identify(defaultName: string, labels: Record<string, string> = {}): void {
    this.#name ??= defaultName;
    this.#labels = { ...this.#labels, ...labels };
  }

  get name(): string {
    return this.#name ?? `mcp-${process.pid}`;
  }

  /** Registers the agent's session on first use; later calls return the same one. */
  session(): Promise<Session> {
    this.#session ??= this.#coordinator.register({ ...this.#register, name: this.name, kind: this.#register.kind ?? 'mcp', labels: this.#labels }).catch((error: unknown) => {
      this.#session = undefined;
      throw error;
    });
    return this.#session;
  }

  /** The registered session, if registration has finished. */
  async current(): Promise<Session | undefined> {
    if (this.#session === undefined) return undefined;
    return this.#session.catch(() => undefined);
  }

  /**
   * Runs `fn` after this agent's earlier changing calls have finished. MCP
   * lets requests overlap, and an agent that sends reserve_paths and then
   * write_file without waiting means them in that order.
   */
  inOrder<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** The session ended under us (daemon lost it): forget what it held; the next call registers anew. */
  reset(): void {
    this.#session = undefined;
    this.leases.clear();
    this.claims.clear();
  }

  /** Ends the session (releasing its leases and requeueing its claims) unless it is already gone. */
  async end(reason: string): Promise<void> {
    const session = await this.current();
    this.#session = undefined;
    if (session === undefined) return;
    await this.#coordinator.endSession(session.id, { reason }).catch((error: unknown) => {
      if (!isBatonError(error, 'SESSION_ENDED') && !isBatonError(error, 'NOT_FOUND')) throw error;
    });
  }
}
