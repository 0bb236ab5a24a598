/** The camera — MaixPy's `maix.camera`, CanMV's `sensor`. */
declare module "qcam:camera" {
  import type { Image, PixelFormat } from "qcam:image";

  /** One output of the sensor: its size, pixel format, rate and pool size. */
  export interface OutputOptions {
    /** Pixels; an even number. Sim: 32..3840. Camera default 640 (or a Y4M source's width). */
    width?: number;
    /** Pixels; an even number. Sim: 32..2160. Camera default 480 (or a Y4M source's height). */
    height?: number;
    /** Default "nv21": what the boards' encoders take. */
    format?: PixelFormat;
    /**
     * Whole frames per second. Camera: 1..120 (sim), default 30 (or a Y4M source's rate).
     * Channel: at most the camera's, default the camera's.
     */
    fps?: number;
    /** Images in this output's pool, 2..16, default 4. An Image holds one until closed. */
    buffers?: number;
  }

  export interface CameraOptions extends OutputOptions {
    /**
     * Sim only: play a Y4M file (4:2:0 or mono, 8-bit) instead of the synthetic pattern.
     * A board path (`/sdcard/clip.y4m`) is looked up in the sim SD card; any other path
     * is the PC's. The file plays in real time at `fps`; width and height must match it
     * (leave them out to take the file's).
     */
    source?: string;
    /** Y4M source: start again at the end (default true); false: read() then throws ERR_END_OF_STREAM. */
    loop?: boolean;
  }

  /** Channels default to the camera's size, format and fps. */
  export interface ChannelOptions extends OutputOptions {}

  export interface CameraStats {
    /** Frames of this output that fell due since it started (delivered + dropped + at most one waiting). */
    captured: number;
    /** Frames never handed out: the app read too late (seq jumped) or every buffer was in use. */
    dropped: number;
    /** Frames handed out by read() or consumed by skipFrames(). */
    delivered: number;
  }

  /**
   * What a Camera and its Channels have in common: a stream of frames at a fixed size,
   * format and rate. Frames fall due on the monotonic clock whether or not anyone reads;
   * the camera never waits for the app.
   */
  export interface CameraOutput {
    readonly width: number;
    readonly height: number;
    readonly format: PixelFormat;
    readonly fps: number;
    readonly buffers: number;
    /**
     * The newest frame not read yet, waiting for the next one to fall due if there is none.
     * `image.seq` counts captures of the sensor (gaps are dropped frames, the same capture
     * has the same seq and `timestampUs` on every channel); `image.timestampUs` is the
     * capture time on CLOCK_MONOTONIC (as `time.monotonicMs() * 1000`), so frames are
     * exactly `(b.seq - a.seq) / fps` seconds apart. Close the Image when done (or `using`): it
     * holds one of `buffers`.
     * @throws Error ERR_NO_BUFFER when every buffer is held by open Images;
     *   ERR_END_OF_STREAM when a Y4M source with `loop: false` has ended;
     *   ERR_INVALID_SOURCE when the Y4M source turns out to be malformed;
     *   ERR_BUSY while this output feeds a link.
     */
    read(): Image;
    /** Wait for `n` frames and discard them (MaixPy's `skip_frames`). Throws like read(). */
    skipFrames(n: number): void;
    stats(): CameraStats;
    /** Idempotent. Afterwards every member but close() throws TypeError ERR_CLOSED. */
    close(): void;
    [Symbol.dispose](): void;
  }

  /**
   * The sensor and its main output. One camera can be open at a time (the second
   * `new Camera` throws EBUSY until the first is closed).
   * @throws TypeError/RangeError ERR_INVALID_ARG for a bad or unknown option, naming the
   *   allowed values; Error ERR_INVALID_SOURCE for a malformed or unsupported Y4M file;
   *   RangeError ERR_INVALID_ARG when width/height differ from the Y4M file's; ENOENT etc.
   */
  export class Camera implements CameraOutput {
    constructor(options?: CameraOptions);
    readonly width: number;
    readonly height: number;
    readonly format: PixelFormat;
    readonly fps: number;
    readonly buffers: number;
    read(): Image;
    skipFrames(n: number): void;
    stats(): CameraStats;
    /**
     * Another output of the same sensor at its own size, format and rate (fps at most the
     * camera's) — MaixPy `add_channel`, CanMV `snapshot(chn=...)`. Up to 3 per camera
     * (sim); a channel lives until its camera closes.
     * @throws Error ERR_TOO_MANY_CHANNELS
     */
    addChannel(options?: ChannelOptions): Channel;
    /** Stops the sensor and closes every Channel made from it. Idempotent. */
    close(): void;
    [Symbol.dispose](): void;
  }

  /** A second (third, fourth) output of a Camera; made by `camera.addChannel()`. */
  export class Channel implements CameraOutput {
    private constructor();
    readonly width: number;
    readonly height: number;
    readonly format: PixelFormat;
    readonly fps: number;
    readonly buffers: number;
    read(): Image;
    skipFrames(n: number): void;
    stats(): CameraStats;
    close(): void;
    [Symbol.dispose](): void;
  }
}
