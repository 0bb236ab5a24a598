// A transfer's progress on stderr (qcam flash --port, get, put): redrawn in
// place on a terminal; otherwise a line at each step, so logs stay short.

export interface ProgressOptions {
  /** Show nothing for transfers smaller than this, or over sooner than `quietMs` (default 0: always show). */
  quietBytes?: number;
  quietMs?: number;
  /** Lines a non-terminal gets: 4 = at 0, 25, 50, 75 and 100 % (default). */
  steps?: number;
  write?: (s: string) => void;
  tty?: boolean;
}

export interface Progress {
  update: (done: number, total: number) => void;
  /** Ends a line left open on a terminal. */
  end: () => void;
}

export function progressBar(label: string, opts: ProgressOptions = {}): Progress {
  const write = opts.write ?? ((s: string) => process.stderr.write(s));
  const tty = opts.tty ?? process.stderr.isTTY === true;
  const steps = opts.steps ?? 4;
  const t0 = performance.now();
  let lastStep = -1;
  let lastDraw = 0;
  let open = false;
  return {
    update(done, total) {
      const now = performance.now();
      if (total < (opts.quietBytes ?? 0) || (done < total && now - t0 < (opts.quietMs ?? 0))) return;
      const frac = total ? done / total : 1;
      const bar = "#".repeat(Math.round(frac * 30)).padEnd(30, ".");
      const rate = done / 1024 / Math.max(0.001, (now - t0) / 1000);
      const line = `${label} [${bar}] ${Math.floor(frac * 100).toString().padStart(3)}% ${(done / 1024).toFixed(0)}/${(total / 1024).toFixed(0)} KiB, ${rate.toFixed(1)} KiB/s`;
      if (tty) {
        if (now - lastDraw < 100 && done < total) return;
        lastDraw = now;
        write(`\r${line}\x1b[K`);
        open = done < total;
        if (!open) write("\n");
      } else if (Math.floor(frac * steps) > lastStep) {
        lastStep = Math.floor(frac * steps);
        write(`${line}\n`);
      }
    },
    end() {
      if (open) write("\n");
      open = false;
    },
  };
}
