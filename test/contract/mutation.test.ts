// Proof that the contract suites have teeth: load a stub with one deliberate
// bug (its source changed in memory by the test loader, see
// build/testing/loader.mjs ?qcam-mutant) and run its module's contract suite
// against it. Each mutant must make the suite fail, in the case that guards
// against that bug. (contract.test.ts shows the unchanged stubs pass.)
import assert from "node:assert/strict";
import { world } from "../../build/testing/index.ts";
import { contractFiles, loadSuite, runStubSide } from "./harness.ts";

interface Mutant {
  bug: string;
  module: string;
  /** The file mutated, under host-modules/, when not the module's stub: one its stub imports (media/writer.stub.ts). */
  file?: string;
  /** [regex source, flags, replacement] on the stub's JavaScript (after the TypeScript transform). */
  replace: [string, string, string][];
  /** The cases that must fail. */
  caught: string[];
  /** The suite that catches it, when not the mutated module's own (qcam:link's for a qcam:video bug). */
  suite?: string;
}

const MUTANTS: Mutant[] = [
  {
    bug: "ticks go backwards",
    module: "qcam:time",
    replace: [[String.raw`return world\.ticksUs\(\);`, "", "return 1e12 - world.ticksUs();"]],
    caught: ["ticks never go backwards"],
  },
  {
    bug: "sleepMs sleeps half as long",
    module: "qcam:time",
    replace: [[String.raw`world\.sleepUs\(Math\.trunc\(v \* Math\.pow\(10, magic\)\)\)`, "", "world.sleepUs(Math.trunc(v * Math.pow(10, magic) / 2))"]],
    caught: ["sleepMs() lasts at least what was asked"],
  },
  {
    bug: "sub-microsecond durations are rounded up, not truncated",
    module: "qcam:time",
    replace: [[String.raw`world\.sleepUs\(Math\.trunc\(v \* Math\.pow\(10, magic\)\)\)`, "", "world.sleepUs(Math.ceil(v * Math.pow(10, magic)))"]],
    caught: ["sub-unit durations are truncated to whole microseconds"],
  },
  {
    bug: "a missing duration throws the wrong code",
    module: "qcam:time",
    replace: [[String.raw`"ERR_INVALID_ARG", "sleep needs a duration"`, "", '"ERR_BAD_ARG", "sleep needs a duration"']],
    caught: ["sleep() rejects a missing, negative or non-finite duration"],
  },
  {
    bug: "needExit() ignores the exit flag",
    module: "qcam:app",
    replace: [[String.raw`return world\.turn\(\);`, "", "return world.turn(), false;"]],
    caught: ["setExitFlag(true) makes needExit() true; setExitFlag(false) takes it back", "setExitFlag(true) in a timer: the same needExit() returns true"],
  },
  {
    bug: "setExitFlag takes any value",
    module: "qcam:app",
    replace: [[String.raw`arguments\.length < 1 \|\| typeof flag !== "boolean"`, "", "false"]],
    caught: ["setExitFlag needs a boolean"],
  },
  {
    bug: "an exit code out of range is a TypeError",
    module: "qcam:app",
    replace: [[String.raw`throwQcam\("RangeError", "ERR_INVALID_ARG", "exit code must be 0\.\.255"\)`, "", 'throwQcam("TypeError", "ERR_INVALID_ARG", "exit code must be 0..255")']],
    caught: ["setExitMessage checks its arguments"],
  },
  {
    bug: "a closed Image still answers",
    module: "qcam:image",
    replace: [[String.raw`if \(!p\) throwQcam\("TypeError", "ERR_CLOSED", "Image is closed"\);`, "", ""]],
    caught: ["close(): idempotent; afterwards every member but close throws ERR_CLOSED"],
  },
  {
    bug: "close() is not [Symbol.dispose]",
    module: "qcam:image",
    replace: [[String.raw`value: Image\.prototype\.close, writable`, "", "value: function close() {}, writable"]],
    caught: ["the prototype: read-only getters, methods, close as [Symbol.dispose]", "[Symbol.dispose]() closes"],
  },
  {
    bug: "timestamps are one frame late",
    module: "qcam:camera",
    replace: [[String.raw`Math\.floor\(\(k \* 1_000_000 \+ s\.fps - 1\)`, "", "Math.floor(((k + 1) * 1_000_000 + s.fps - 1)"]],
    caught: ["the first frame is capture 0; frames are seq/fps apart on the monotonic clock; stats add up"],
  },
  {
    bug: "captures a slow reader missed are not counted as dropped",
    module: "qcam:camera",
    replace: [[String.raw`c\.dropped \+= j - c\.nextJ;`, "", ""]],
    caught: ["a slow reader: captures that fell due meanwhile are dropped and counted, seq jumps"],
  },
  {
    bug: "a dry pool throws the wrong code",
    module: "qcam:camera",
    replace: [[String.raw`"ERR_NO_BUFFER",`, "", '"ERR_TIMEOUT",']],
    caught: ["every buffer held by the app: read() throws ERR_NO_BUFFER; closing one fixes it"],
  },
  {
    bug: "nv21 frames carry their chroma in nv12 order",
    module: "qcam:camera",
    replace: [[String.raw`const nv12 = fmt === "nv12";`, "", 'const nv12 = fmt !== "yuv420p";']],
    caught: ["every format: the size its layout needs, and the sim's pattern for the capture"],
  },
  {
    bug: "the GOP is one frame too long",
    module: "qcam:video",
    replace: [[String.raw`e\.sinceKey >= e\.cfg\.gop`, "", "e.sinceKey > e.cfg.gop"]],
    caught: [
      "h264: one frame per image; keyframes on the first, every gop and after requestIdr(); pts from the image",
      "h265: one frame per image; keyframes on the first, every gop and after requestIdr(); pts from the image",
      "what an encoder wrote reads back: EsReader and splitAccessUnits see the same units",
    ],
  },
  {
    bug: "requestIdr() is ignored",
    module: "qcam:video",
    replace: [[String.raw`const key = e\.idr \|\| `, "", "const key = "]],
    caught: ["h264: one frame per image; keyframes on the first, every gop and after requestIdr(); pts from the image"],
  },
  {
    bug: "P frames are as big as keyframes",
    module: "qcam:video",
    replace: [[String.raw`const target = key \? i : p;`, "", "const target = i;"]],
    caught: ["frame sizes follow the rate: a keyframe outweighs its P frames; more bits, more bytes"],
  },
  {
    bug: "only the first keyframe carries the parameter sets",
    module: "qcam:video",
    replace: [[String.raw`const parts: Uint8Array\[\] = key \?`, "", "const parts: Uint8Array[] = key && seq === 0 ?"]],
    caught: ["h265: one frame per image; keyframes on the first, every gop and after requestIdr(); pts from the image"],
  },
  {
    bug: "an odd width is a TypeError",
    module: "qcam:video",
    replace: [[String.raw`throwQcam\("RangeError", "ERR_INVALID_ARG", \`width and height must be even`, "", 'throwQcam("TypeError", "ERR_INVALID_ARG", `width and height must be even']],
    caught: ["Encoder options: a missing or bad one is a TypeError/RangeError naming what is allowed"],
  },
  {
    bug: "a linked encoder can be closed",
    module: "qcam:video",
    suite: "link",
    replace: [[String.raw`if \(e\.linked\) throwQcam\("Error", "ERR_BUSY", "close the link this encoder feeds first"\);`, "", ""]],
    caught: ["a link of `frames: 6`: counts add up, the card holds what the sink wrote; linked parts refuse with ERR_BUSY"],
  },
  {
    bug: "a link ignores `frames`",
    module: "qcam:link",
    replace: [[String.raw`if \(l\.maxFrames && l\.taken >= l\.maxFrames\) endReading\(l\);`, "", ""]],
    caught: [
      "a link of `frames: 6`: counts add up, the card holds what the sink wrote; linked parts refuse with ERR_BUSY",
      "a full card: the sink's ENOSPC reaches onError at a needExit() turn; counts still add up",
    ],
  },
  {
    bug: "a link counts as its drops the frames its source drops after it stopped reading",
    module: "qcam:link",
    replace: [[String.raw`\(l\.srcDropped1 \?\? l\.src\.dropped\(\)\)`, "", "l.src.dropped()"]],
    caught: ["drops.source stops when the link stops reading: frames that fall due while it drains or waits to be closed are not its"],
  },
  {
    bug: "two links may feed one sink",
    module: "qcam:link",
    replace: [[String.raw`    if \(s\.busy & media\) \{`, "", "    if (false) {"]],
    caught: ["a link of `frames: 6`: counts add up, the card holds what the sink wrote; linked parts refuse with ERR_BUSY"],
  },
  {
    bug: "a failed sink's frames go uncounted",
    module: "qcam:link",
    replace: [[String.raw`      s\.failed = true;\n      s\.dropped\+\+;`, "", "      s.failed = true;"]],
    caught: ["a full card: the sink's ENOSPC reaches onError at a needExit() turn; counts still add up"],
  },
  {
    bug: "onError hears EIO instead of the sink's error",
    module: "qcam:link",
    replace: [[String.raw`if \(!s\.failed\) report\(l, err, s\.sink\.kind\);`, "", 'if (!s.failed) report(l, "EIO", s.sink.kind);']],
    caught: ["a full card: the sink's ENOSPC reaches onError at a needExit() turn; counts still add up"],
  },
  {
    bug: "a full card takes nothing of a write instead of what fits",
    module: "qcam:fs",
    replace: [[String.raw`if \(reserved < growth\) fit = Math\.min\(len, Math\.max\(0, size0 \+ reserved - start\)\);`, "", "if (reserved < growth) fit = 0;"]],
    caught: ["a full card: what fits is written, then ENOSPC with bytesWritten; the card stays consistent"],
  },
  {
    bug: "removing a folder with files says EEXIST",
    module: "qcam:fs",
    replace: [[String.raw`n\.entries\.size\) fail\("ENOTEMPTY"\)`, "", 'n.entries.size) fail("EEXIST")']],
    caught: ["errors: POSIX codes with errno, messages naming the board path"],
  },
  {
    bug: "list() is not sorted",
    module: "qcam:fs",
    replace: [[String.raw`return names\.sort\(\(a, b\) => Buffer\.compare\(Buffer\.from\(a\), Buffer\.from\(b\)\)\);`, "", "return names;"]],
    caught: ["folders: list (sorted bytewise), stat, exists, rename, remove, removeTree, mkdir recursive, tidy paths"],
  },
  {
    bug: "a late reader's lost blocks go uncounted",
    module: "qcam:audio",
    replace: [[String.raw`a\.dropped \+= due - a\.next - a\.cfg\.buffers;`, "", ""]],
    caught: ["a late reader: the input keeps `buffers` blocks, drops older ones (counted), the rest come out in order"],
  },
  {
    bug: "an audio block is stamped with the time it completes, not its first sample's",
    module: "qcam:audio",
    replace: [[String.raw`new Block\(a, k, a\.t0 \+ k \* a\.frameUs, pcm\)`, "", "new Block(a, k, a.t0 + (k + 1) * a.frameUs, pcm)"]],
    caught: ["tone: the sim's samples, blocks in order frameMs apart, none handed out before it is complete"],
  },
  {
    bug: "mu-law with the sign bit the wrong way round",
    module: "qcam:audio",
    replace: [[String.raw`\(neg \? i \| 0x80 : i\) \^ 0xff`, "", "(neg ? i : i | 0x80) ^ 0xff"]],
    caught: ["G.711: ffmpeg's bytes for all 65536 inputs, the standard's levels, encode(decode(encode(x))) = encode(x)"],
  },
  {
    bug: "the end of a WAV source without loop is an error, not null",
    module: "qcam:audio",
    replace: [[String.raw`if \(e === "ENODATA"\) return null;`, "", ""]],
    caught: ["a WAV source: the file's samples exactly, in real time, null at its end; loop plays it again"],
  },
  {
    bug: "a WAV at another rate plays without a word",
    module: "qcam:audio",
    replace: [[String.raw`if \(info\.sampleRate !== cfg\.sampleRate \|\| info\.channels !== cfg\.channels\)`, "", "if (false)"]],
    caught: ["WAV sources that cannot play: a clear error each"],
  },
  {
    bug: "a linked AudioIn can still be read",
    module: "qcam:audio",
    replace: [[String.raw`if \(h\.link\)\s*throwQcam\("Error", "ERR_BUSY", "this AudioIn feeds a link: its blocks go there \(close the link first\)"\);`, "", ""]],
    caught: ["link(mic, AudioEncoder, EsFileSink): raw G.711 on the card, counts that add up, linked parts busy"],
  },
  {
    bug: "an audio source links with a video encoder (and back)",
    module: "qcam:link",
    suite: "audio",
    replace: [[String.raw`if \(audio !== \(enc\.media === LINK_AUDIO\) \|\| \(audio && \(keepLast \|\| overlay\)\)\) \{`, "", "if (false) {"]],
    caught: ["link(): an audio source needs an AudioEncoder, a video one an Encoder; no capture for audio"],
  },
  {
    bug: "a sink is one claim: a video link keeps an audio link out",
    module: "qcam:link",
    suite: "audio",
    replace: [[String.raw`    if \(s\.busy & media\) \{`, "", "    if (s.busy) {"]],
    caught: ["one sink, two links: a video link and an audio link feed it at once; a second of a kind is ERR_BUSY"],
  },
  {
    bug: "two audio links may feed one sink",
    module: "qcam:link",
    suite: "audio",
    replace: [[String.raw`    if \(s\.busy & media\) \{`, "", "    if (false) {"]],
    caught: [
      "link(mic, AudioEncoder, EsFileSink): raw G.711 on the card, counts that add up, linked parts busy",
      "one sink, two links: a video link and an audio link feed it at once; a second of a kind is ERR_BUSY",
    ],
  },
  {
    bug: "a fragment is cut one frame late",
    module: "qcam:mp4",
    replace: [[String.raw`if \(elapsed >= limit \|\|`, "", "if (elapsed > limit ||"]],
    caught: [
      "pull mode, h264: fragments, flush, close → a regular MP4 the reader reads back",
      "pull mode, h265: fragments, flush, close → a regular MP4 the reader reads back",
    ],
  },
  {
    bug: "frames before the first keyframe are kept when the parameter sets are known",
    module: "qcam:mp4",
    replace: [[String.raw`if \(!pkt\.keyframe \|\| !this\.setConfig\(pkt\)\)`, "", "if (!this.setConfig(pkt))"]],
    caught: ["parameter sets given up front: frames before the first keyframe are still dropped"],
  },
  {
    bug: "a full card is not reported to onError",
    module: "qcam:mp4",
    file: "media/writer.stub.ts",
    replace: [[String.raw`if \(this\.cfg\.onError\) this\.post\(\{ error: \{ code, path: this\.path \} \}\);`, "", ""]],
    caught: ["a full card: ENOSPC to onError at a loop turn, the writer stops, what was written reads back"],
  },
  {
    bug: "the last file is reported by onSegment as well as by close()",
    module: "qcam:mp4",
    file: "media/writer.stub.ts",
    replace: [[String.raw`const \{ r, info \} = w\.close\(\);`, "", "const { r, info } = w.close(); if (info.size) w.post({ segment: info });"]],
    caught: [
      "segments by size: split at keyframes; onSegment for each finished file at a loop turn, close() returns the last",
      "segments by time; close() delivers the reports the loop has not yet",
    ],
  },
  {
    bug: "audio timestamps start from the first audio frame, not the video's origin",
    module: "qcam:mp4",
    replace: [[String.raw`k\.nextDts = Math\.floor\(\(rel \* rate \+ 500000\) / 1000000\);`, "", "k.nextDts = 0;"]],
    caught: ["audio that starts 100 ms after the video: the same start times read back finalized (edit list) and fragmented (tfdt)"],
  },
  {
    bug: "repair says ok for a torn fragmented file",
    module: "qcam:mp4",
    replace: [[String.raw`\(!finalize && !r\.torn\)`, "", "(!finalize)"]],
    caught: ["repair: a torn tail is cut off, a fragmented file finalized, a good one left alone"],
  },
  {
    bug: "seek() lands on the keyframe after the time instead of at or before it",
    module: "qcam:mp4",
    replace: [[String.raw`if \(!found \|\| pts <= seconds \* 1e6\) best = k;`, "", "if (!found || s.dtsUs[ti][best] + toUs(t.samples[best].cts, t.timescale) < seconds * 1e6) best = k;"]],
    caught: ["audio that starts 100 ms after the video: the same start times read back finalized (edit list) and fragmented (tfdt)"],
  },
  {
    bug: "the reader ignores edit lists",
    module: "qcam:mp4",
    replace: [[String.raw`t\.baseDts \+= edits\[i\]\.delay`, "", "t.baseDts += 0"]],
    caught: ["audio that starts 100 ms after the video: the same start times read back finalized (edit list) and fragmented (tfdt)"],
  },
  {
    bug: "the reader ignores the edit's media time",
    module: "qcam:mp4",
    replace: [[String.raw`toUs\(d - r\.mediaStart\[i\], t\.timescale\)`, "", "toUs(d, t.timescale)"]],
    caught: ["audio that starts 100 ms after the video: the same start times read back finalized (edit list) and fragmented (tfdt)"],
  },
  {
    bug: "write() ignores ERR_BUSY while a link feeds the stream",
    module: "qcam:rtsp",
    replace: [[String.raw`if \(s\.sink\.busy\) throwQcam\("Error", "ERR_BUSY", "this stream is fed by a link; write\(\) is for pull mode"\);`, "", ""]],
    caught: ["a stream as a link's sink: ERR_BUSY while linked (stream and server), frames counted, closes after"],
  },
  {
    bug: "a linked stream can be closed",
    module: "qcam:rtsp",
    replace: [[String.raw`if \(s\.sink\.busy\) throwQcam\("Error", "ERR_BUSY", "close the link feeding this stream first"\);`, "", ""]],
    caught: ["a stream as a link's sink: ERR_BUSY while linked (stream and server), frames counted, closes after"],
  },
  {
    bug: "a server with a linked stream can be closed",
    module: "qcam:rtsp",
    replace: [[String.raw`if \(linked\) throwQcam\(`, "", "if (false) throwQcam("]],
    caught: ["a stream as a link's sink: ERR_BUSY while linked (stream and server), frames counted, closes after"],
  },
  {
    bug: "RtspSource's errors show the URL's password",
    module: "qcam:rtsp",
    replace: [[String.raw`colon >= 0 \? ":\*\*\*" : ""`, "", 'colon >= 0 ? info.slice(colon) : ""']],
    caught: ["RtspSource: nobody listening is ECONNREFUSED, the password masked in the message"],
  },
  {
    bug: "close() does not free the port",
    module: "qcam:rtsp",
    replace: [[String.raw`state\(\)\.ports\.delete\(s\.port\);`, "", ""]],
    caught: ["stats(): the shape with no clients; close() returns the final stats, then undefined; closes its streams"],
  },
  {
    bug: "stream paths are not given their leading '/'",
    module: "qcam:rtsp",
    replace: [[String.raw`let n = \`\/\$\{p\.replace\(\/\^\\\/\+\/, ""\)\}\`;`, "", "let n = p;"]],
    caught: ["stream(): paths and track options are checked"],
  },
  {
    bug: "url() names the wildcard address",
    module: "qcam:rtsp",
    replace: [[String.raw`if \(host === "0\.0\.0\.0" \|\| host === "::"\) return "127\.0\.0\.1";`, "", ""]],
    caught: ["port 0 picks a free port; a port in use is EADDRINUSE; url() and the stream's url"],
  },
  {
    bug: "audio frames are counted as video",
    module: "qcam:rtsp",
    replace: [[String.raw`if \(isAudio\) st\.audioFrames\+\+;\s*else st\.videoFrames\+\+;`, "", "st.videoFrames++;"]],
    caught: ["pull mode: audio frames count as audioFrames (not video); a law without a track is refused"],
  },
  {
    bug: "RtspServer takes unknown options (a misspelt port listens on 8554)",
    module: "qcam:rtsp",
    replace: [[String.raw`checkKeys\(o, "RtspServer", `, "", '(o, "RtspServer", ']],
    caught: ["unknown option keys are refused, naming the key: server, auth, stream, its video, audio and parameterSets"],
  },
  {
    bug: "link() takes unknown options",
    module: "qcam:link",
    replace: [[String.raw`checkKeys\(options, "link", `, "", '(options, "link", ']],
    caught: ["link(): an unknown option key is refused, naming it, before the link starts"],
  },
  {
    bug: "Encoder takes unknown options",
    module: "qcam:video",
    replace: [[String.raw`checkKeys\(o, "Encoder", `, "", '(o, "Encoder", ']],
    caught: ["unknown option keys are refused, naming the key: Encoder, Decoder, EsReader"],
  },
  {
    bug: "Mp4Writer's segment takes unknown options",
    module: "qcam:mp4",
    file: "media/writer.stub.ts",
    replace: [[String.raw`checkKeys\(so, \`\$\{cls\} segment\`, `, "", "(so, `${cls} segment`, "]],
    caught: ["unknown option keys are refused, naming the key: Mp4Writer (and its video, audio, segment, parameterSets), remux, repair"],
  },
  {
    bug: "'not an MP4' quotes bytes 4-7 instead of the file's first bytes",
    module: "qcam:mp4",
    replace: [[String.raw`fccOf\(b, 0\)`, "", "fccOf(b, 4)"]],
    caught: ["not an MP4: Mp4Reader and repair name the file's first bytes (its first 4, as text or hex)"],
  },
  {
    bug: "writers do not make their folders",
    module: "qcam:fs",
    replace: [[String.raw`parentMade\(c, comps\)`, "g", "parentOf(c, comps)"]],
    caught: ["writers make the missing folders of their path; readers do not", "writeFile replaces a file whole, and leaves nothing else behind"],
  },
  {
    bug: "a wrong-typed Camera option does not say what it got",
    module: "qcam:camera",
    replace: [[String.raw`, not \$\{describeValue\(v\)\}`, "", ""]],
    caught: ["bad options: TypeError/RangeError ERR_INVALID_ARG naming what is allowed"],
  },
];

const files = contractFiles();

describe("contract suites catch a stub that drifts (mutants)", function () {
  for (const m of MUTANTS) {
    it(`${m.module}: "${m.bug}" fails ${m.caught.map((c) => `"${c}"`).join(", ")}`, async function () {
      const file = files.get(m.suite ?? m.module.slice("qcam:".length));
      assert.ok(file, `no contract suite for ${m.module}`);
      const exposed = world.saveExposed();
      try {
        const suite = await loadSuite(file, { module: m.module, file: m.file, replace: m.replace });
        const results = await runStubSide(suite);
        const failed = results.filter((r) => r.status === "fail").map((r) => r.name);
        assert.ok(failed.length > 0, `the ${m.module} contract passed against a stub where ${m.bug}`);
        for (const c of m.caught) assert.ok(failed.includes(c), `"${c}" did not fail; failed: ${failed.join("; ")}`);
      } finally {
        world.restoreExposed(exposed); // the mutant offered its own
      }
    });
  }
});
