/**
 * A bronze writer as its own process: `node --import tsx consumers/bronze/process.ts`. Settings come
 * from the environment (see options.ts and runtime/endpoints.ts); SIGTERM/SIGINT finish the batch in
 * flight, commit, and exit.
 */
import { runRolesMain } from '../../runtime/run-roles.ts';
import { bronzeRole } from './role.ts';

await runRolesMain([bronzeRole]);
