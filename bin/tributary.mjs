#!/usr/bin/env node
// The `tributary` command. TypeScript runs through tsx's loader: no build step to forget.
import fs from 'node:fs';
import { register } from 'tsx/esm/api';

// Settings from ./.env (see .env.example); variables already in the environment win.
if (fs.existsSync('.env')) process.loadEnvFile('.env');
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
