/** Images: pictures in native memory (camera output, decoder output, encoder input). */
declare module "qcam:image" {
  export type PixelFormat = "nv21" | "nv12" | "yuv420p" | "rgb888" | "gray";

  /**
   * A picture held in native memory, from a pooled, reference-counted buffer.
   * Pixels never enter the JavaScript heap unless `toArrayBuffer()` is called.
   * Close an image as soon as it is no longer needed (or use `using`), so its
   * buffer returns to the camera's pool; after `close()` every member throws a
   * TypeError with code ERR_CLOSED.
   */
  export class Image {
    private constructor();
    readonly width: number;
    readonly height: number;
    readonly format: PixelFormat;
    /** Capture time, monotonic microseconds (same clock as `ticksUs`' source). */
    readonly timestampUs: number;
    /** Sequence number at the source; gaps are dropped frames. */
    readonly seq: number;
    /** Bytes of pixel data. */
    readonly size: number;
    /** A read-only view of the pixels, without copying. It keeps the buffer alive by itself. */
    toArrayBuffer(): ArrayBuffer;
    /** Give the buffer back. Idempotent. */
    close(): void;
    [Symbol.dispose](): void;
  }
}
