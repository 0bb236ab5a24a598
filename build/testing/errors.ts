// The errors host modules throw, made the way runtime/app.c makes them:
// qcam_throw(kind, code, message) gives an Error / TypeError / RangeError with
// a `code` property (writable, configurable, not enumerable);
// qcam_throw_errno(err, what) gives an Error whose code is the errno's name,
// with `errno` (configurable only) and the message "what: strerror(err)".
// Stubs throw through these so their errors match the C modules' exactly.

export type ErrorKind = "Error" | "TypeError" | "RangeError";

export type QcamError = Error & { code: string };
export type ErrnoError = QcamError & { errno: number };

const CTORS: Record<ErrorKind, ErrorConstructor> = { Error, TypeError, RangeError };

export function qcamError(kind: ErrorKind, code: string, message: string): QcamError {
  const err = new CTORS[kind](message);
  Object.defineProperty(err, "code", { value: code, writable: true, configurable: true, enumerable: false });
  return err as QcamError;
}

/** `return throwQcam(...)` reads like the C bindings' `return qcam_throw(...)`. */
export function throwQcam(kind: ErrorKind, code: string, message: string): never {
  throw qcamError(kind, code, message);
}

/** The errno names qcam_throw_errno knows (app.c errno_name), with Linux numbers
 * and glibc's strerror text. Any other errno comes out as EIO there, so here too. */
export const ERRNO: Readonly<Record<string, readonly [number, string]>> = {
  EPERM: [1, "Operation not permitted"],
  ENOENT: [2, "No such file or directory"],
  EIO: [5, "Input/output error"],
  EBADF: [9, "Bad file descriptor"],
  EAGAIN: [11, "Resource temporarily unavailable"],
  ENOMEM: [12, "Cannot allocate memory"],
  EACCES: [13, "Permission denied"],
  EBUSY: [16, "Device or resource busy"],
  EEXIST: [17, "File exists"],
  ENODEV: [19, "No such device"],
  ENOTDIR: [20, "Not a directory"],
  EISDIR: [21, "Is a directory"],
  EINVAL: [22, "Invalid argument"],
  EMFILE: [24, "Too many open files"],
  EFBIG: [27, "File too large"],
  ENOSPC: [28, "No space left on device"],
  EROFS: [30, "Read-only file system"],
  EPIPE: [32, "Broken pipe"],
  ERANGE: [34, "Numerical result out of range"],
  ENAMETOOLONG: [36, "File name too long"],
  ENOTEMPTY: [39, "Directory not empty"],
  ENOTSUP: [95, "Operation not supported"],
  EADDRINUSE: [98, "Address already in use"],
  ECONNRESET: [104, "Connection reset by peer"],
  ETIMEDOUT: [110, "Connection timed out"],
  ECONNREFUSED: [111, "Connection refused"],
  EPROTO: [71, "Protocol error"],
  EDQUOT: [122, "Disk quota exceeded"],
  EINTR: [4, "Interrupted system call"],
  ENXIO: [6, "No such device or address"],
  EXDEV: [18, "Invalid cross-device link"],
  ETXTBSY: [26, "Text file busy"],
  EMLINK: [31, "Too many links"],
  ELOOP: [40, "Too many levels of symbolic links"],
  EBADMSG: [74, "Bad message"],
  EOVERFLOW: [75, "Value too large for defined data type"],
};

export function errnoError(name: string, what: string): ErrnoError {
  const known = ERRNO[name];
  if (!known) throw new Error(`qcam testing: unknown errno name ${name} (known: ${Object.keys(ERRNO).join(", ")})`);
  const err = qcamError("Error", name, `${what}: ${known[1]}`) as ErrnoError;
  Object.defineProperty(err, "errno", { value: known[0], configurable: true, writable: false, enumerable: false });
  return err;
}

export function throwErrno(name: string, what: string): never {
  throw errnoError(name, what);
}
