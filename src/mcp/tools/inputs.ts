// Input schemas more than one tool group shares; where a field means what it
// means on the wire, it is the wire's own schema (src/schema/fields.ts).
import { z } from 'zod';
import { leaseMode, path } from '../../schema/fields.ts';

export const projectPath = path;
export const seconds = (max: number) => z.number().positive().max(max);
export const waitSeconds = z.number().min(0).max(3600).optional().describe('How long to wait for a holder to let go. Default 0: answer at once.');
export const reason = z.string().min(1).max(200).optional().describe('Why you need it, shown to other agents in list_reservations and in refusals (e.g. "fixing the login bug").');
export const mode = leaseMode.optional();
