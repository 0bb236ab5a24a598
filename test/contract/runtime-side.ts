// The runtime side of a contract run: bundled into an app image with one
// suite (see harness.ts), run by the real runtime against the C modules,
// printing one result line that the mocha side parses. No top-level await
// before the cases: code after an await runs inside a loop turn, where
// needExit() does not turn again.
import { app } from "qcam:app";
import { runContract, type CaseResult, type Contract, type ContractEnv } from "./kit.ts";

export const RESULT_MARK = "@@qcam-contract ";

/** Why the runtime side has no encoder or decoder (empty: it has them). */
export interface CodecErrors {
  encoder: string[];
  decoder: string[];
}

export interface RuntimeReport {
  module: string;
  results: CaseResult[];
  note?: string;
  codecErrors?: CodecErrors;
}

export function runInRuntime(suite: Contract, env: ContractEnv, note?: string, cleanup?: () => void, codecErrors?: CodecErrors): void {
  const results = runContract(suite, env);
  try {
    cleanup?.();
  } catch {
    /* a failing cleanup must not hide the results */
  }
  app.setLogLevel("info");
  const report: RuntimeReport = { module: suite.module, results, note, codecErrors };
  console.log(RESULT_MARK + JSON.stringify(report));
  app.setExitMessage(0, "");
  app.setExitFlag(true); // leftover timers must not keep the app alive
}
