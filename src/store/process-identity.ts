import { readFileSync } from "node:fs";

/** /proc/<pid>/stat's starttime is field 22; fields after the command name start at field 3. */
const STARTTIME_AFTER_COMMAND = 22 - 3;

/**
 * Names one process for as long as the machine runs: the boot's id and the process's start, in
 * clock ticks since boot. A pid reused by a later process gets another name; no wall clock is
 * read, so a stepped clock cannot confuse them. Null where /proc cannot tell (not Linux, or no
 * such process).
 */
export function processIdentity(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces or parentheses itself.
    const ticks = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[STARTTIME_AFTER_COMMAND];
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return ticks === undefined || boot === "" ? null : `${boot}:${ticks}`;
  } catch {
    return null;
  }
}
