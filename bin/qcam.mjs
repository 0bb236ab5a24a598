#!/usr/bin/env node
// The qcam command. The tooling is TypeScript, run through tsx.
import { register } from "tsx/esm/api";
register();
await import("../build/cli.ts");
