// Watching an app's sources for `qcam dev`. Node 20's `fs.watch(dir,
// { recursive: true })` on Linux is emulated in JavaScript and loses files
// replaced by a rename (editors and `sed -i` save that way) and, now and
// then, plain writes: saves went unnoticed. Here every folder of the tree
// has its own inotify watch (a plain fs.watch on the folder), which sees
// writes, creations and renames of the files in it; new folders get one as
// they appear.
import fs from "node:fs";
import path from "node:path";

const SKIP = (name: string) => name === "node_modules" || name === "out" || name.startsWith(".");

/** Calls `changed(relativePath)` for each change under `root`; returns a function that stops watching. */
export function watchTree(root: string, changed: (file: string) => void): () => void {
  const watchers = new Map<string, fs.FSWatcher>();
  const add = (dir: string) => {
    if (watchers.has(dir)) return;
    let w: fs.FSWatcher;
    try {
      w = fs.watch(dir, (_ev, name) => {
        const n = String(name ?? "");
        if (!n || SKIP(n)) return;
        const full = path.join(dir, n);
        try {
          if (fs.statSync(full).isDirectory()) return add(full);
        } catch {
          // gone: a rename's first half, or a deletion
        }
        changed(path.relative(root, full));
      });
    } catch {
      return; // a folder that went away meanwhile
    }
    w.on("error", () => {
      w.close();
      watchers.delete(dir);
    });
    watchers.set(dir, w);
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory() && !SKIP(e.name)) add(path.join(dir, e.name));
  };
  add(root);
  return () => {
    for (const w of watchers.values()) w.close();
    watchers.clear();
  };
}
