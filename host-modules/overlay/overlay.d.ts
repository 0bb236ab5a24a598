/** Text burned into pictures: a time stamp, a frame counter, a label. */
declare module "qcam:overlay" {
  import type { Image } from "qcam:image";

  export type OverlayPosition = "top-left" | "top-right" | "bottom-left" | "bottom-right";

  export interface OverlayOptions {
    /**
     * The text (1..255 bytes of UTF-8; glyphs U+0020..U+00FF, others drawn as
     * "?"). Fields, expanded for every picture: `%Y %m %d %H %M %S` (UTC, as
     * every qcam time), `%%`; `{frame}` (pictures this overlay drew before,
     * from 0), `{fps}` (their rate over the last whole second of capture time,
     * one decimal), `{seq}` (the picture's sequence number), `{{` for "{".
     * Any other `%x` or `{name}` is a RangeError ERR_INVALID_ARG.
     */
    text: string;
    /** A corner (default "top-left"), `margin` pixels from the edges. Not with x/y. */
    position?: OverlayPosition;
    /** The box's top-left corner in pixels (0..16383, default 0); not with `position`. */
    x?: number;
    y?: number;
    /** Distance from the edges for a corner position, pixels (0..1024, default 8). */
    margin?: number;
    /** Font size in pixels: 12, 14, 16, 20, 24, 32, 40 or 48 (default 24). */
    size?: number;
    /** Whole-number magnification of text and box, 1..8 (default 1), e.g. 2 at 1080p. */
    scale?: number;
    /** Text colour "#rrggbb" (default "#ffffff"). */
    color?: string;
    /** The shaded box behind the text, "#rrggbb" (default "#000000"), or null for none. */
    background?: string | null;
    /** The box's opacity, percent 0..100 (default 50). */
    opacity?: number;
    /** Space around the text inside the box, font pixels (0..64, default 4), scaled with the text. */
    padding?: number;
  }

  /**
   * Text drawn into pictures with the display's font (DejaVu Sans, antialiased):
   * in pull mode with `draw(image)` before `encoder.encode(image)`, in bound
   * mode by passing it as `link(..., { overlay })`, where the link's encode
   * thread draws it into every picture before encoding (no JavaScript per
   * frame). Option errors are ERR_INVALID_ARG (TypeError for a wrong type or
   * an unknown key, RangeError for a value out of range). Closing an Overlay
   * that a link draws with is allowed: the link keeps drawing until it closes.
   */
  export class Overlay {
    constructor(options: OverlayOptions);
    /** The template as given. */
    readonly text: string;
    /** Pictures drawn so far (by draw() and by links). */
    readonly frames: number;
    /**
     * Burn the text into the image's pixels (nv21, nv12, yuv420p or gray;
     * else TypeError ERR_INVALID_ARG), for the wall clock now. The image is
     * changed in place: the part of the picture outside the box is untouched.
     */
    draw(image: Image): void;
    /** The text for wall time `timeMs` (ms since 1970, UTC; at most year 9999),
     * `frame`, `fps` and `seq` (default 0): what draw() writes. */
    expand(timeMs: number, frame?: number, fps?: number, seq?: number): string;
    /** Idempotent; after it every other member throws ERR_CLOSED. */
    close(): void;
    [Symbol.dispose](): void;
  }
}
