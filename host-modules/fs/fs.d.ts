/**
 * Files on the board's storage — Python's `open()` and `os.*` as MaixPy and
 * CanMV users know them, synchronous like theirs.
 *
 * Paths are board paths: `/sdcard/...` (the SD card) and `/tmp/...` (scratch).
 * Anything else — a relative path, another folder, a `..` component — throws
 * an Error with code `EINVAL`. On the sim platform the card is the folder given
 * by `--sdcard`, optionally capped by `--sdcard-size` to test a full card.
 *
 * Writers make their folders, readers do not: opening with "w", "a" or "wx",
 * `writeFile` and `appendFile` (and the other modules' writers: `EsFileSink`,
 * `Mp4Writer`, `remux`) first make the missing folders of the path; "r", "r+"
 * and everything that only reads fails with `ENOENT` for a missing folder.
 *
 * Every failure throws an {@link FsError}: `code` is the POSIX name (`ENOENT`,
 * `EEXIST`, `ENOSPC`, `EISDIR`, `ENOTDIR`, `ENOTEMPTY`, `EACCES`, `EBUSY`, ...),
 * `errno` its number, and the message names the board path.
 */
declare module "qcam:fs" {
  /**
   * How to open a file:
   * - `"r"`  read; the file must exist
   * - `"r+"` read and write; the file must exist
   * - `"w"`  write; created (missing folders too), or emptied if it exists
   * - `"a"`  append: every write goes to the end; created (missing folders too) if missing
   * - `"wx"` write a new file (missing folders are made); `EEXIST` if it already exists
   */
  export type OpenFlags = "r" | "r+" | "w" | "a" | "wx";

  /** Bytes to write: strings are written as UTF-8. */
  export type Data = string | Uint8Array | ArrayBuffer;

  export interface Stats {
    /** Bytes. */
    size: number;
    isFile: boolean;
    isDirectory: boolean;
    /** Last modification, milliseconds since the epoch. */
    mtimeMs: number;
  }

  export interface Space {
    /** Size of the mount in bytes (the card's size). */
    total: number;
    /** Bytes free. */
    free: number;
    /** Bytes free for this app (can be less than `free` on a board). */
    available: number;
  }

  /** What every qcam:fs function throws. */
  export interface FsError extends Error {
    /** POSIX name: "ENOENT", "ENOSPC", ... */
    code: string;
    errno: number;
    /** Failed writes (`File.write`, `appendFile`; e.g. `ENOSPC`): the bytes of this call that did reach the file. */
    bytesWritten?: number;
  }

  /**
   * An open file. Close it when done (or `using f = open(...)`); a file the app
   * forgets is closed when it is garbage-collected or when the app unloads.
   * After `close()` every member throws a TypeError with code `ERR_CLOSED`.
   */
  export class File {
    private constructor();
    /** The board path it was opened with. */
    readonly path: string;
    readonly flags: OpenFlags;
    /**
     * Read into `buffer` (up to its length) at `position`, or at the file
     * position (which then advances) when `position` is omitted.
     * Returns the bytes read; 0 at the end of the file.
     */
    read(buffer: Uint8Array | ArrayBuffer, position?: number | null): number;
    /**
     * Write all of `data` at `position`, or at the file position (which then
     * advances) when omitted. In `"a"` mode data always goes to the end.
     * Returns the bytes written (all of them). When the card fills up, the
     * bytes that fit are written and an `ENOSPC` error is thrown whose
     * `bytesWritten` says how many.
     */
    write(data: Data, position?: number | null): number;
    /** Flush the file's data to the card (fsync). */
    sync(): void;
    /** Cut or extend (with zeros) the file to `length` bytes (default 0). */
    truncate(length?: number): void;
    stat(): Stats;
    /** Close the file. Idempotent. */
    close(): void;
    [Symbol.dispose](): void;
  }

  /** Open a file (default `"r"`). */
  export function open(path: string, flags?: OpenFlags): File;

  /** The whole file. */
  export function readFile(path: string): ArrayBuffer;
  /** The whole file, decoded as UTF-8. */
  export function readText(path: string): string;
  /**
   * Replace a file's contents atomically: the data goes to a temporary file
   * beside it, is synced, and renamed over the target. Readers (and a power
   * cut) see the old contents or the new ones, never a mix; on failure
   * (`ENOSPC`, ...) the old file is untouched. Missing folders are made.
   */
  export function writeFile(path: string, data: Data): void;
  /**
   * Append to a file, creating it (and missing folders) if missing. Not synced (use a `File` and
   * `sync()` for that). `ENOSPC` carries `bytesWritten`.
   */
  export function appendFile(path: string, data: Data): void;

  /** The names in a folder, sorted (bytewise); "." and ".." left out. */
  export function list(path: string): string[];
  /** Follows symbolic links. */
  export function stat(path: string): Stats;
  /** Whether something is at `path`. Throws only for paths that are not board paths. */
  export function exists(path: string): boolean;
  /** Remove a file or an empty folder (`ENOTEMPTY` otherwise). */
  export function remove(path: string): void;
  /** Remove a file, or a folder and everything in it. */
  export function removeTree(path: string): void;
  /** Move or rename; an existing file at `to` is replaced. */
  export function rename(from: string, to: string): void;
  /**
   * Create a folder. `recursive`: create missing parents too, and a folder
   * that already exists is fine; otherwise `EEXIST` if anything is there.
   */
  export function mkdir(path: string, options?: { recursive?: boolean }): void;
  /** Size and free space of the storage holding `path` (default `/sdcard`). */
  export function space(path?: string): Space;
}
