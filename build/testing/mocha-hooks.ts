// Root hooks for `qcam test`: every test starts in a fresh world and ends with
// Node's own globals back in place.
import { world } from "./world.ts";

export const mochaHooks = {
  beforeEach(): void {
    world.reset();
  },
  afterEach(): void {
    world.restore();
  },
};
