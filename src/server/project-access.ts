// Which projects a request's principal may reach (docs/daemon.md, "Tokens and
// projects"). An admin (an admin token, `hmac`: the state directory's key,
// `local`: the unix socket) reaches every project; a token made with
// --project reaches the projects it names; anything else (a token from before
// projects, a dashboard session) the daemon's default project alone.
import { BatonError } from '../errors.ts';
import type { AuthResult } from './auth.ts';

type Principal = Pick<AuthResult, 'principal' | 'projects' | 'admin'>;

/** Whether `who` may act in `project` (`isDefault`: it is the daemon's default project). */
export function projectAllowed(who: Principal, project: string, isDefault: boolean): boolean {
  if (who.admin === true) return true;
  if (who.projects !== undefined) return who.projects.includes(project);
  return isDefault;
}

/** What `who` reaches, for messages. */
function reachOf(who: Principal): string {
  if (who.projects !== undefined) return `is scoped to project(s) ${who.projects.join(', ')}`;
  return who.principal.startsWith('ui:') ? 'is a dashboard session of the default project' : 'reaches the default project only';
}

/**
 * Passes when `who` may act in `project`; otherwise PERMISSION_DENIED naming
 * the principal, the project asked and what it reaches (details.projects:
 * the names, or null for the default project alone).
 */
export function refuseProject(who: Principal, project: string, isDefault: boolean): void {
  if (projectAllowed(who, project, isDefault)) return;
  throw new BatonError('PERMISSION_DENIED', `${who.principal} ${reachOf(who)}: it cannot reach project ${project}`, {
    details: { principal: who.principal, project, projects: who.projects ?? null },
  });
}

/** Passes for an admin; otherwise PERMISSION_DENIED: `<principal> is not an admin token: it cannot <what>`. */
export function requireAdmin(who: Principal, what: string): void {
  if (who.admin === true) return;
  throw new BatonError('PERMISSION_DENIED', `${who.principal} is not an admin token: it cannot ${what}`, { details: { principal: who.principal } });
}
