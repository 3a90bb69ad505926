/**
 * Runs the stream processor alone in this process: `node --import tsx consumers/processor/process.ts`.
 * Used to scale out and by the crash tests, which kill -9 it.
 */
import { runRolesMain } from '../../runtime/run-roles.ts';
import { processorRole } from './role.ts';

await runRolesMain([processorRole]);
