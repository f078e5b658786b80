import { DIR } from "../defaults.js";

/** The config folder a command works on: its argument, else INLET_DIR, else the working directory. */
export function configDir(argument: string | undefined): string {
  return argument ?? (process.env["INLET_DIR"] || DIR);
}
