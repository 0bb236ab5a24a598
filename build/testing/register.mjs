// `node --import tsx --import <this file>`: qcam:* imports resolve to the
// host-module stubs (see loader.mjs). The project's .mocharc.json and
// `qcam test` load it after tsx, so TypeScript and the stubs both work.
import { register } from "node:module";

register("./loader.mjs", import.meta.url);
