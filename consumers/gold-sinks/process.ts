/**
 * The gold sinks as their own process: `node --import tsx consumers/gold-sinks/process.ts`. Runs
 * the sinks named in TRIBUTARY_GOLD_SINKS (default postgres,mongo), each its own consumer group;
 * SIGTERM/SIGINT finish the batch in flight, commit, and exit.
 */
import { runRolesMain } from '../../runtime/run-roles.ts';
import { goldSinksOptions } from './options.ts';
import { GOLD_SINK_ROLES } from './role.ts';

await runRolesMain((env) => goldSinksOptions(env).sinks.map((s) => GOLD_SINK_ROLES[s]));
