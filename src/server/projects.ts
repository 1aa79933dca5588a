// The projects one daemon serves (docs/projects.md). A project is a store of
// its own: the daemon's home project is the database it was started on, and
// every other is a sibling (SQLite: <dir of the home database>/projects/<name>.db;
// PostgreSQL: the schema baton_p_<name>, dashes as underscores, in the same
// database), opened on its first request with its own group-committing
// writer, sweeper, node record and webhook worker. Nothing is shared between
// two projects but the daemon's process, so no query can reach across them:
// isolation is the store's, not a WHERE clause's. The list of projects is the
// home store's `projects` table; on PostgreSQL every daemon of the database
// reads the same list.
import { join, dirname } from 'node:path';
import type { Engine } from '../engine/engine.ts';
import { emit, lastEventSeq } from '../engine/events.ts';
import { BatonError, isBatonError } from '../errors.ts';
import { PROJECT_HEADER } from '../limits.ts';
import { checkProjectName, type DerivedName } from '../project/project-name.ts';
import type { DaemonOperations } from '../protocol/daemon-operations.ts';
import type { ProjectInfo, ProjectOperations } from '../protocol/project-operations.ts';
import type { Row, Store } from '../stores/store.ts';
import { openEngine, runNode, type EngineOpenOptions, type OpenedEngine, type ProjectStore } from './daemon-engine.ts';
import type { Logger } from './log.ts';
import { WebhookWorker, type WorkerOptions as WebhookWorkerOptions } from './webhooks/worker.ts';
import { webhookOperations } from './webhooks/operations.ts';
import { idempotentOperations } from './idempotent-ops.ts';

/** An archived or removed project is noticed by a daemon that has it open within this long (another daemon may archive it). */
const RECHECK_MS = 5_000;

/** What a request works on: its project's engine and the daemon's operations for it. */
export interface ProjectScope {
  readonly name: string;
  readonly home: boolean;
  readonly coordinator: Engine;
  readonly daemonOperations: DaemonOperations;
  overloaded(): boolean;
  lastEventSeq(): Promise<number>;
  bindSession(sessionId: string): Promise<void>;
  /** Where its state is (a file, or a schema), for its status. */
  readonly where?: string;
  /** Aborted when the daemon closes the project (archived): its open streams end and its waits stop. */
  readonly closing?: AbortSignal;
}

interface OpenProject {
  scope: ProjectScope;
  held: AsyncDisposableStack;
  closing: AbortController;
  checkedAt: number;
}

/** What a request for an archived project is answered, also one that was in flight when it was archived. */
export function archivedError(name: string): BatonError {
  return new BatonError('NOT_FOUND', `project ${JSON.stringify(name)} is archived: its state is kept, and no request reaches it`, { details: { project: name, archived: true } });
}

export interface ProjectsOptions {
  engine: EngineOpenOptions;
  log: Logger;
  webhooks: Omit<WebhookWorkerOptions, 'store' | 'nodeId' | 'log'>;
  /** The name a home store without one is given (derived from the repository: src/project/project-name.ts). */
  homeName: DerivedName;
}

const isPostgres = (store: string | undefined): boolean => store !== undefined && /^postgres(ql)?:\/\//.test(store);

/** Where a project other than the home one keeps its state. */
export function projectStore(name: string, store: string | undefined): ProjectStore {
  return isPostgres(store) ? { schema: `baton_p_${name.replace(/-/g, '_')}` } : { sqliteFile: (home) => join(dirname(home), 'projects', `${name}.db`) };
}

function infoOf(row: Row, where: string): ProjectInfo {
  return {
    name: String(row.name),
    home: row.home === true || row.home === 1,
    derivedFrom: row.derived_from === null ? null : String(row.derived_from),
    createdAt: Number(row.created_at),
    archivedAt: row.archived_at === null ? null : Number(row.archived_at),
    store: where,
  };
}

export class Projects {
  #home: ProjectScope | undefined;
  readonly homeName: string;
  readonly #store: Store;
  readonly #homeWhere: string;
  readonly #options: ProjectsOptions;
  readonly #open = new Map<string, Promise<OpenProject>>();
  /** Archived through this daemon: refused at once, before the list is read again. */
  readonly #archived = new Set<string>();
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  private constructor(homeName: string, homeWhere: string, store: Store, options: ProjectsOptions) {
    this.homeName = homeName;
    this.#homeWhere = homeWhere;
    this.#store = store;
    this.#options = options;
  }

  /** The home store's project list, with the home project named if it was not (a store made before projects, or new). */
  static async start(homeEngine: OpenedEngine, options: ProjectsOptions, home: (operations: ProjectOperations) => Omit<ProjectScope, 'name' | 'home'>): Promise<Projects> {
    const store = homeEngine.writer;
    const row = await store.write(async (tx) => {
      const found = await tx.get('projectHome');
      if (found !== undefined) return found;
      // A second daemon of the same PostgreSQL database may name it at the same moment: the one home row wins (projects_one_home).
      await tx.run('projectInsert', { name: options.homeName.name, home: 1, derivedFrom: options.homeName.from, now: tx.now });
      return tx.get('projectHome');
    });
    if (row === undefined) throw new BatonError('STORE_ERROR', 'the home project could not be recorded');
    const name = String(row.name);
    const projects = new Projects(name, homeEngine.info.where, store, options);
    projects.#home = { ...home(projects.operations()), name, home: true };
    projects.#follow();
    return projects;
  }

  /** The daemon's home project: the database it was started on. */
  get home(): ProjectScope {
    return this.#home!;
  }

  /** The project a request names (undefined: the home project), opened if it is not yet. */
  async scope(name: string | undefined): Promise<ProjectScope> {
    if (name === undefined || name === this.homeName) return this.home;
    checkProjectName(name, `the project (the ${PROJECT_HEADER} header, or ?project=)`);
    if (this.#archived.has(name)) throw archivedError(name);
    let opening = this.#open.get(name);
    if (opening === undefined) {
      await this.#row(name);
      // Another request may have begun opening it while this one read the row.
      opening = this.#open.get(name);
      if (opening === undefined) {
        const made = this.#openProject(name);
        this.#open.set(name, (opening = made));
        made.catch(() => this.#open.get(name) === made && this.#open.delete(name));
      }
    }
    const open = await opening;
    // Archived while it was being opened (the row was read before the archive committed).
    if (this.#archived.has(name)) throw archivedError(name);
    if (Date.now() - open.checkedAt > RECHECK_MS) {
      try {
        await this.#row(name);
        open.checkedAt = Date.now();
      } catch (error) {
        // Gone or archived (through another daemon): closed here too. Any other failure (the database
        // briefly unreachable) leaves it open: closing would end its node, and with it every session attached here.
        if (isBatonError(error, 'NOT_FOUND')) await this.#close(name);
        throw error;
      }
    }
    return open.scope;
  }

  /** The project's row, or NOT_FOUND when there is none or it is archived. */
  async #row(name: string): Promise<Row> {
    const row = await this.#store.read((tx) => tx.get('projectGet', { name }));
    // The names it does serve are not listed: the caller may not reach them (baton project list shows those it does).
    if (row === undefined) throw new BatonError('NOT_FOUND', `no project ${JSON.stringify(name)} on this daemon; baton project list shows those you reach, and an admin creates one with: baton project create ${name}`, { details: { project: name } });
    if (row.archived_at !== null) throw archivedError(name);
    return row;
  }

  async #openProject(name: string): Promise<OpenProject> {
    if (this.#closed) throw new BatonError('UNAVAILABLE', 'the daemon is stopping');
    const held = new AsyncDisposableStack();
    const closing = new AbortController();
    try {
      const { engine: engineOptions, log } = this.#options;
      const opened = await openEngine(held, engineOptions, projectStore(name, engineOptions.store));
      const node = await runNode(held, opened.engine, engineOptions, log);
      const webhooks = new WebhookWorker({ ...this.#options.webhooks, store: opened.writer, nodeId: node.id, log });
      webhooks.start();
      held.defer(() => webhooks.close());
      const scope: ProjectScope = {
        name,
        home: false,
        coordinator: opened.engine,
        daemonOperations: idempotentOperations(opened.writer, { ...noWorktree(name, this.homeName), ...webhookOperations(opened.writer, webhooks), ...this.operations() }),
        overloaded: () => opened.writer.full,
        lastEventSeq: () => opened.writer.read(lastEventSeq),
        bindSession: async (sessionId) => void (await opened.engine.bindSession(sessionId, node.id)),
        where: opened.info.where,
        closing: closing.signal,
      };
      log.info('project opened', { project: name, store: opened.info.where });
      return { scope, held, closing, checkedAt: Date.now() };
    } catch (error) {
      await held.disposeAsync();
      throw error;
    }
  }

  /** Closes an open project: its streams and waits end first (with `reason`), then its engine and what runs beside it. */
  async #close(name: string, reason: BatonError = archivedError(name)): Promise<void> {
    const opening = this.#open.get(name);
    this.#open.delete(name);
    const open = await opening?.catch(() => undefined);
    open?.closing.abort(reason);
    await open?.held.disposeAsync();
  }

  async list(): Promise<ProjectInfo[]> {
    const rows = await this.#store.read((tx) => tx.all('projectList'));
    return rows.map((row) => infoOf(row, this.#where(String(row.name), row.home === true || row.home === 1)));
  }

  #where(name: string, home: boolean): string {
    if (home) return this.#homeWhere;
    const at = projectStore(name, this.#options.engine.store);
    return at.schema !== undefined ? `schema ${at.schema}` : at.sqliteFile!(this.#options.engine.store?.slice('sqlite:'.length) ?? this.#homeWhere);
  }

  /** projectList, projectShow, projectCreate, projectArchive: the same for every project's scope. */
  operations(): ProjectOperations {
    return {
      projectList: async () => ({ projects: await this.list() }),
      projectShow: async ({ name }) => {
        const info = (await this.list()).find((p) => p.name === name);
        if (info === undefined) await this.#row(name);
        if (info!.archivedAt !== null) return { ...info!, leases: null, sessions: null, tasks: null };
        const { coordinator } = await this.scope(name);
        const [leases, sessions, tasks] = await Promise.all([coordinator.listLeases(), coordinator.listSessions(), coordinator.taskCounts()]);
        return { ...info!, leases: leases.length, sessions: sessions.length, tasks };
      },
      projectCreate: async ({ name, by }) => {
        checkProjectName(name);
        const exists = async (): Promise<never> => {
          const row = await this.#store.read((tx) => tx.get('projectGet', { name }));
          throw new BatonError('CONFLICT', `project ${JSON.stringify(name)} exists already${row?.archived_at === null || row === undefined ? '' : ' (archived; its state is kept)'}`, { details: { project: name } });
        };
        if ((await this.#store.read((tx) => tx.get('projectGet', { name }))) !== undefined || name === this.homeName) await exists();
        // Its store first: a location that cannot be made (permissions) fails the create and records nothing.
        const opening = this.#open.get(name) ?? this.#openProject(name);
        this.#open.set(name, opening);
        try {
          await opening;
        } catch (error) {
          if (this.#open.get(name) === opening) this.#open.delete(name);
          throw error;
        }
        const made = await this.#store.write(async (tx) => {
          const { changes } = await tx.run('projectInsert', { name, home: 0, derivedFrom: null, now: tx.now });
          if (changes > 0) await emit(tx, 'project.created', null, by ?? null, { name });
          return changes;
        });
        if (made === 0) await exists();
        return (await this.list()).find((p) => p.name === name)!;
      },
      projectArchive: async ({ name, by }) => {
        if (name === this.homeName) throw new BatonError('INVALID_ARGUMENT', `project ${JSON.stringify(name)} is this daemon's home project: it cannot be archived`);
        await this.#row(name);
        this.#archived.add(name);
        try {
          await this.#store.write(async (tx) => {
            if ((await tx.run('projectArchive', { name, now: tx.now })).changes > 0) await emit(tx, 'project.archived', null, by ?? null, { name });
          });
        } catch (error) {
          this.#archived.delete(name);
          throw error;
        }
        await this.#close(name);
        return (await this.list()).find((p) => p.name === name)!;
      },
    };
  }

  /**
   * Keeps the open projects in step with the list, now and every RECHECK_MS:
   * each project is open, so its sweeper runs and its webhooks are delivered
   * with no request to open it (after a restart too), and one archived or
   * created through another daemon of the database is closed or opened here.
   */
  #follow(): void {
    const sync = async (): Promise<void> => {
      const rows = await this.#store.read((tx) => tx.all('projectList'));
      for (const row of rows) {
        const name = String(row.name);
        if (row.home === true || row.home === 1) continue;
        if (row.archived_at !== null) {
          if (this.#open.has(name)) await this.#close(name);
          continue;
        }
        if (!this.#open.has(name) && !this.#closed) await this.scope(name).catch((error: unknown) => this.#options.log.warn('a project could not be opened', { project: name, error: String(error) }));
      }
    };
    let running = false;
    const tick = (): void => {
      if (running || this.#closed) return;
      running = true;
      sync()
        .catch((error: unknown) => this.#options.log.warn('the project list could not be read', { error: String(error) }))
        .finally(() => (running = false));
    };
    tick();
    this.#timer = setInterval(tick, RECHECK_MS);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#closed = true;
    const stopping = new BatonError('UNAVAILABLE', 'the daemon is stopping; retry shortly');
    await Promise.all([...this.#open.keys()].map((name) => this.#close(name, stopping)));
  }
}

type WorktreeOperations = Pick<DaemonOperations, 'writeFile' | 'deleteFile' | 'renameFile' | 'readFile' | 'gitStatus' | 'gitCommit'>;

/** A project other than the home one has no worktree on this daemon: its file and git operations are refused, naming why. */
function noWorktree(name: string, home: string): WorktreeOperations {
  const refuse = (what: string) => () =>
    Promise.reject(new BatonError('INVALID_ARGUMENT', `project ${JSON.stringify(name)} has no worktree on this daemon: ${what} works in the daemon's own project (${home}) only`, { details: { project: name } }));
  return {
    writeFile: refuse('writeFile'),
    deleteFile: refuse('deleteFile'),
    renameFile: refuse('renameFile'),
    readFile: refuse('readFile'),
    gitStatus: refuse('gitStatus'),
    gitCommit: refuse('gitCommit'),
  };
}
