#!/usr/bin/env node
// The `tributary` command. TypeScript runs through tsx's loader: no build step to forget.
import fs from 'node:fs';
import { requireSupportedNode } from './require-node.mjs';

// before anything else is loaded: on an old Node, say which version to install instead of failing later
requireSupportedNode();
// Settings from ./.env (see .env.example); variables already in the environment win.
if (fs.existsSync('.env')) process.loadEnvFile('.env');
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
