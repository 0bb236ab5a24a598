// qcam:input's contract: options, checks, the poll()/isPressed()/touch()
// state of an Input with no events yet, and the one class pattern.
import { Input } from "qcam:input";

const KEYS = ["ok", "option", "next", "prev", "left", "right"] as const;
import { contract, deepEq, eq, throws } from "./kit.ts";

export default contract("qcam:input", (t) => {
  t.test("an Input with nothing pressed", () => {
    const i = new Input();
    try {
      deepEq(i.poll(), []);
      for (const k of KEYS) eq(i.isPressed(k), false, k);
      deepEq(i.touch(), { x: 0, y: 0, down: false });
      eq(i.dropped, 0);
      throws(() => i.isPressed("enter" as never), { name: "RangeError", code: "ERR_INVALID_ARG", message: 'isPressed key must be one of "ok", "option", "next", "prev", "left", "right", not "enter"' });
      throws(() => i.isPressed(1 as never), { name: "TypeError", code: "ERR_INVALID_ARG", message: 'isPressed key must be one of "ok", "option", "next", "prev", "left", "right", not 1' });
    } finally {
      i.close();
    }
  });

  t.test("options: callbacks must be functions, unknown keys refused", () => {
    throws(() => new Input({ onkey: () => {} } as never), { name: "TypeError", code: "ERR_INVALID_ARG", message: 'unknown Input option "onkey" (known: onKey, onTouch, exitOnLongOk)' });
    throws(() => new Input({ onKey: 5 as never }), { name: "TypeError", code: "ERR_INVALID_ARG", message: "Input onKey must be a function, not 5" });
    throws(() => new Input({ exitOnLongOk: 1 as never }), { name: "TypeError", code: "ERR_INVALID_ARG", message: "Input exitOnLongOk must be a boolean" });
    new Input({ onKey: () => true, onTouch: () => {}, exitOnLongOk: false }).close();
  });

  t.test("close(): idempotent; afterwards every member but close throws ERR_CLOSED", () => {
    const i = new Input();
    i.close();
    i.close();
    const closed = { name: "TypeError", code: "ERR_CLOSED", message: "Input is closed" };
    throws(() => i.poll(), closed);
    throws(() => i.dropped, closed);
    throws(() => Input.prototype.poll.call({}), { name: "TypeError", code: "ERR_WRONG_THIS", message: "expected a Input" });
  });
});
