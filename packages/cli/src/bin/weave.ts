#!/usr/bin/env node
// The `weave` command. Kept tiny: verbs are imported on demand (see ../verbs.ts).
import { processIO, runWeave } from '../main.js';

process.exitCode = await runWeave(process.argv.slice(2), processIO());
