import { readFileSync } from "node:fs";

/** Linux reports process times in /proc in USER_HZ ticks, fixed at 100 for user space. */
const USER_HZ = 100;
/** /proc/<pid>/stat's starttime is field 22; fields after the command name start at field 3. */
const STARTTIME_AFTER_COMMAND = 22 - 3;

/**
 * When the process with this pid started, in ms since the epoch; null where /proc cannot tell
 * (not Linux, or no such process). Accurate to about a second: the boot time is whole seconds.
 */
export function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces or parentheses itself.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[STARTTIME_AFTER_COMMAND]);
    const bootS = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(bootS)) return null;
    return bootS * 1000 + (ticks * 1000) / USER_HZ;
  } catch {
    return null;
  }
}
