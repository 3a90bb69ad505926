/**
 * A bronze writer as its own process: `node --import tsx consumers/bronze/process.ts`. Settings come
 * from the environment (see options.ts and infra/options.ts); SIGTERM/SIGINT finish the batch in
 * flight, commit, and exit.
 */
import { runRolesMain } from '../../cli/run-roles.ts';
import { bronzeRole } from './role.ts';

await runRolesMain([bronzeRole]);
