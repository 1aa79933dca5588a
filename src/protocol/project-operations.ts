// The daemon's projects (docs/projects.md): the bodies and answers of
// projectList, projectShow, projectCreate and projectArchive. Creating and
// archiving need an admin credential; a list shows the projects the caller
// may reach.
import { z } from 'zod';
import { PROJECT_NAME_PATTERN, PROJECT_NAME_RULE, TASK_STATES } from '../limits.ts';
import { mutation } from '../schema/fields.ts';

const name = z
  .string()
  .regex(PROJECT_NAME_PATTERN, { error: (issue) => `must be ${PROJECT_NAME_RULE}, got ${JSON.stringify(issue.input)}` })
  .describe(`A project name: ${PROJECT_NAME_RULE}.`);

export const projectListBody = z.strictObject({});
export const projectNameBody = z.strictObject({ name });
/** Creating and archiving are recorded in the default project's events (project.created, project.archived) with who asked. */
export const projectChangeBody = mutation.extend({ name });

export const projectInfo = z.strictObject({
  name: z.string(),
  home: z.boolean().describe("The daemon's default project: the one a request that names none is in."),
  derivedFrom: z.string().nullable().describe('What the home project was named from: `origin <url>`, `folder <path>`, or null when named by hand.'),
  createdAt: z.int(),
  archivedAt: z.int().nullable(),
  store: z.string().describe('Where its state is: a SQLite file, or a PostgreSQL schema.'),
});
export type ProjectInfo = z.infer<typeof projectInfo>;

export const projectList = z.strictObject({ projects: z.array(projectInfo) });

export const projectDetail = z.strictObject({
  ...projectInfo.shape,
  leases: z.int().nullable(),
  sessions: z.int().nullable(),
  tasks: z.partialRecord(z.enum(TASK_STATES), z.int()).nullable(),
});

export interface ProjectOperations {
  projectList(body: z.infer<typeof projectListBody>): Promise<z.infer<typeof projectList>>;
  projectShow(body: z.infer<typeof projectNameBody>): Promise<z.infer<typeof projectDetail>>;
  projectCreate(body: z.infer<typeof projectChangeBody>): Promise<ProjectInfo>;
  projectArchive(body: z.infer<typeof projectChangeBody>): Promise<ProjectInfo>;
}
