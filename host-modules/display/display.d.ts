/** The board's screen — MaixPy's `maix.display`, CanMV's `Display` (media.display). */
declare module "qcam:display" {
  import type { Image } from "qcam:image";
  import type { Camera, Channel } from "qcam:camera";

  /** The boards' panels: maixcam 552x368 (touch), maixcam-pro 640x480 (touch),
   * k230-lcd 800x480 (touch), k230-hdmi 1280x720. The sim shows the one `--board` names. */
  export type Board = "maixcam" | "maixcam-pro" | "k230-lcd" | "k230-hdmi";

  export interface DisplayOptions {
    /** Degrees clockwise: 0, 90, 180 or 270 (default 0). 90 and 270 swap width and height. */
    rotation?: number;
    /** 0..100 (default 100). */
    backlight?: number;
  }

  /** What measureText() gives: pixels. */
  export interface TextMetrics {
    width: number;
    /** ascent + descent: the line box text() fills. */
    height: number;
    ascent: number;
    descent: number;
  }

  export interface StrokeOptions {
    /** Corner radius in pixels (default 0). */
    radius?: number;
    /** 1..255 pixels, inside the rectangle (default 1). */
    thickness?: number;
  }

  export interface ShowOptions {
    /** "fit" (default): all of the picture, letterboxed on black; "fill": the screen covered, cropped. */
    fit?: "fit" | "fill";
  }

  /** A region of the screen in pixels. */
  export interface Rect {
    x: number;
    y: number;
    width: number;
    height: number;
  }

  export interface DisplayStats {
    /** flush() calls that carried something. */
    flushes: number;
    flushedPixels: number;
    /** Frames put on the video layer (a shown camera's, or show(image)). */
    videoFrames: number;
    /** Times the panel changed. */
    panelFrames: number;
    /** CPU time the video layer's thread has used (sim: scaling and composing). */
    videoCpuUs: number;
  }

  /**
   * The screen: a video layer (a camera shown natively, or an Image) under an overlay the
   * app draws on. Drawing changes nothing on the panel until flush(), which carries only
   * what changed. Colors are numbers 0xAARRGGBB (0xff000000 opaque black, 0 transparent).
   * Coordinates are whole pixels of the turned screen, (0, 0) top left. One Display at a
   * time (a second `new Display` throws EBUSY).
   *
   * Sim: opening a Display serves the board's page on 127.0.0.1 (its address in `url`,
   * printed on stderr unless `--no-display-url`); `--board` picks the panel and
   * `--display-port` the port.
   */
  export class Display {
    constructor(options?: DisplayOptions);
    /** The screen's size as the app draws on it (the panel turned by `rotation`). */
    readonly width: number;
    readonly height: number;
    readonly board: Board;
    /** The panel as mounted. */
    readonly panelWidth: number;
    readonly panelHeight: number;
    readonly touch: boolean;
    readonly rotation: number;
    readonly backlight: number;
    /** Sim: the page showing this screen ("http://127.0.0.1:<port>/"); "" on a board. */
    readonly url: string;
    /** 0, 90, 180 or 270. Clears the overlay (its size may change); redraw and flush. */
    setRotation(degrees: number): void;
    /** 0..100. */
    setBacklight(percent: number): void;

    /** Every overlay pixel := color (default 0: transparent, the video layer shows). */
    clear(color?: number): void;
    /** A filled rectangle, corners rounded by `radius` pixels, antialiased. */
    fillRect(x: number, y: number, width: number, height: number, color: number, radius?: number): void;
    /** A rectangle's outline. */
    strokeRect(x: number, y: number, width: number, height: number, color: number, options?: StrokeOptions): void;
    /** A line, `thickness` 1..255 pixels (default 1), antialiased. */
    line(x0: number, y0: number, x1: number, y1: number, color: number, thickness?: number): void;
    /**
     * Antialiased text (DejaVu Sans) with its line box's top-left corner at (x, y), `size`
     * one of 12, 14, 16, 20, 24, 32, 40, 48 pixels (default 16). Latin-1 characters; others show as "?". Returns its width.
     */
    text(text: string, x: number, y: number, color: number, size?: number): number;
    measureText(text: string, size?: number): TextMetrics;
    /** An Image drawn opaque on the overlay at (x, y), scaled to width x height (default its own). */
    drawImage(image: Image, x: number, y: number, options?: { width?: number; height?: number }): void;
    /** Show what was drawn: the changed region goes to the panel. Returns it, or null when nothing changed. */
    flush(): Rect | null;

    /**
     * The video layer shows a Camera (or Channel) — its frames go camera → screen on a
     * native thread with no JavaScript per frame, and it is busy (read()/close() throw
     * ERR_BUSY) until hide() or another show() — or one Image (playback, a still).
     */
    show(source: Camera | Channel | Image, options?: ShowOptions): void;
    /** Black video layer; a shown camera is let go. */
    hide(): void;
    /** The panel as shown, as a PNG file's bytes. */
    screenshot(): ArrayBuffer;
    stats(): DisplayStats;
    /** Idempotent. Afterwards every member but close() throws TypeError ERR_CLOSED. */
    close(): void;
    [Symbol.dispose](): void;
  }
}
