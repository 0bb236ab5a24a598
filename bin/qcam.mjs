#!/usr/bin/env node
// The qcam command. The tooling is TypeScript, run through tsx.
import { register } from "tsx/esm/api";
register();
const { cli } = await import("../build/cli.ts");
cli(process.argv.slice(2));
