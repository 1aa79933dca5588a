// Input schemas more than one tool group shares.
import { z } from 'zod';
import { LEASE_MODES, MAX_PATH_LENGTH } from '../../limits.ts';

export const projectPath = z.string().min(1).max(MAX_PATH_LENGTH);
export const seconds = (max: number) => z.number().positive().max(max);
export const waitSeconds = z.number().min(0).max(3600).optional().describe('How long to wait for a holder to let go. Default 0: answer at once.');
export const reason = z.string().min(1).max(200).optional().describe('Why you need it, shown to other agents in list_reservations and in refusals (e.g. "fixing the login bug").');
export const mode = z.enum(LEASE_MODES).optional();
