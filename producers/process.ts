/**
 * Runs the pollers alone in this process: `node --import tsx producers/process.ts`. Settings come
 * from the environment (runtime/endpoints.ts, producers/options.ts). SIGINT/SIGTERM finish and commit
 * the page in flight; after a kill -9 the next start resumes from the last committed transaction
 * (see README.md). The kill -9 tests run this file.
 */
import { runRolesMain } from '../runtime/run-roles.ts';
import { pollersRole } from './role.ts';

await runRolesMain([pollersRole]);
