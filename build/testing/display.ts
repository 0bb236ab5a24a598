// Test-side access to what the qcam:display stub drew (see display-list.ts).
import { world } from "./world.ts";
import type { DisplayList } from "./display-list.ts";

/** The display list of the Display opened last in this world (it stays readable after
 * close()); throws when no Display was opened. */
export function displayList(): DisplayList {
  const get = world.exposed<() => DisplayList | null>("display.list");
  const list = get?.();
  if (!list) throw new Error("qcam testing: no Display has been opened in this world (import qcam:display and open one)");
  return list;
}
