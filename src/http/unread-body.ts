import type { IncomingMessage } from "node:http";
import { UNREAD_BODY_DRAIN_MAX_BYTES, UNREAD_BODY_DRAIN_MS } from "../defaults.js";

/**
 * After a request was answered without its body being read (refused before it, or too large),
 * reads the rest and drops it. Closing a socket that still holds unread bytes makes the kernel
 * reset the connection, and the reset can discard the answer before the sender has read it: the
 * sender would see ECONNRESET instead of its 401 or 413, and send again. Once the body has come
 * the connection is kept (keep-alive); a sender still sending after UNREAD_BODY_DRAIN_MS or past
 * UNREAD_BODY_DRAIN_MAX_BYTES (or declaring more) is cut off.
 */
export function drainUnreadBody(req: IncomingMessage): void {
  if (req.destroyed) return;
  if (Number(req.headers["content-length"] ?? 0) > UNREAD_BODY_DRAIN_MAX_BYTES) {
    req.destroy();
    return;
  }
  let drained = 0;
  const cutOff = setTimeout(() => req.destroy(), UNREAD_BODY_DRAIN_MS);
  cutOff.unref();
  const onData = (chunk: Buffer): void => {
    drained += chunk.length;
    if (drained > UNREAD_BODY_DRAIN_MAX_BYTES) req.destroy();
  };
  const done = (): void => {
    clearTimeout(cutOff);
    req.off("data", onData);
  };
  req.on("data", onData).once("end", done).once("close", done);
  req.resume();
}
